//! Placeholder: the scenario "carbon-removal" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("carbon-removal");
    s.check("scenario written", false, "not written yet");
    s.report
}
