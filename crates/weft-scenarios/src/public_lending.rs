//! Placeholder: the scenario "public-lending" is being written (see crate docs).

use crate::{Ctx, Scenario, ScenarioReport};

pub async fn run(_ctx: &Ctx) -> ScenarioReport {
    let mut s = Scenario::new("public-lending");
    s.check("scenario written", false, "not written yet");
    s.report
}
