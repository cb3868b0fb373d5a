//! Placeholder: the scenario "letter-of-credit" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("letter-of-credit");
    s.check("scenario written", false, "not written yet");
    s.report
}
