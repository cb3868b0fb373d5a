//! Placeholder: the scenario "petitions" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("petitions");
    s.check("scenario written", false, "not written yet");
    s.report
}
