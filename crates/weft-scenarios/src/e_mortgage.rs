//! Placeholder: the scenario "e-mortgage" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("e-mortgage");
    s.check("scenario written", false, "not written yet");
    s.report
}
