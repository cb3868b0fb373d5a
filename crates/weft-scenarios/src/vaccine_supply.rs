//! Placeholder: the scenario "vaccine-supply" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("vaccine-supply");
    s.check("scenario written", false, "not written yet");
    s.report
}
