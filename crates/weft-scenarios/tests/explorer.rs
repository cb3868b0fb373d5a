//! The explorer in a real browser (issue 6): a node plays reference scenarios, then headless
//! Chromium, driven over WebDriver (chromedriver), clicks through blocks → transaction →
//! asset timeline → workflow diagram → proof verification and asserts on what it rendered.
//! A tampered proof must show as failed; the browser's cryptography must agree with the
//! Rust vectors; the layout must fit a phone; an anonymous viewer must not see member data.
//! Screenshots of every step are kept in `<target>/tmp/explorer/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `scripts/test` and CI).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client as Browser, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};
use weft_client::{Client, Keypair, consortium};
use weft_node::{Node, NodeConfig, OrgScope, PrivateConfig};
use weft_scenarios::{Cast, Ctx, name, now_ms};

const WAIT: Duration = Duration::from_secs(15);

struct Driver {
    process: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("the explorer tests need Chromium: run `bash scripts/test` (it installs chromium and chromium-driver) or `apt-get install chromium chromium-driver`")
}

async fn start_browser() -> (Driver, Browser) {
    let binary = chromium();
    let port = free_port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect(
            "chromedriver is missing: run `bash scripts/test` or `apt-get install chromium-driver`",
        );
    let driver = Driver { process };
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]
        }
    });
    let caps = caps.as_object().unwrap().clone();
    let deadline = Instant::now() + WAIT;
    loop {
        let attempt = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match attempt {
            Ok(browser) => return (driver, browser),
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    }
}

struct Page<'a> {
    browser: &'a Browser,
    base: String,
    shots: PathBuf,
    step: std::cell::Cell<u32>,
}

impl Page<'_> {
    async fn open(&self, route: &str) {
        self.browser
            .goto(&format!("{}/{route}", self.base))
            .await
            .unwrap();
    }

    async fn find(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    async fn all(&self, css: &str) -> Vec<Element> {
        self.find(css).await;
        self.browser.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Waits until `css` matches an element whose text contains `needle`.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(elements) = self.browser.find_all(Locator::Css(css)).await {
                for e in elements {
                    if let Ok(t) = e.text().await
                        && t.contains(needle)
                    {
                        return t;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {css} with {needle:?}; page:\n{}",
                self.browser.source().await.unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn shot(&self, label: &str) {
        let n = self.step.get() + 1;
        self.step.set(n);
        // Let the page paint what the DOM holds before capturing it.
        let _ = self
            .browser
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 100)));",
                vec![],
            )
            .await;
        let png = self.browser.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{n:02}-{label}.png")), png).unwrap();
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.browser.execute(script, args).await.unwrap()
    }
}

/// A node that has played the scenarios the explorer is walked through.
struct Chain {
    node: Node,
    url: String,
    ctx: Ctx,
    operator: Keypair,
    _dir: tempfile::TempDir,
}

async fn chain() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let operator = Keypair::generate().unwrap();
    let genesis = consortium::genesis(name("explorer-test"), &operator, name("operator"), now_ms());
    let mut config = NodeConfig::new(dir.path().join("chain"), genesis.clone());
    config.validator_key = Some(operator.clone());
    config.private = Some(PrivateConfig {
        dir: dir.path().join("private"),
        scope: OrgScope::All,
        operator: None,
        peers: vec![],
        sweep_interval: weft_node::private::SWEEP_INTERVAL,
    });
    let node = tokio::task::spawn_blocking(move || Node::start(config))
        .await
        .unwrap()
        .unwrap();
    let listener = weft_api::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(weft_api::serve(
        node.clone(),
        listener,
        std::future::pending(),
    ));
    let ctx = Ctx::new(
        Client::new(&url),
        genesis,
        Cast::ephemeral(operator.clone()),
    );
    for scenario in ["payment", "vaccine-supply", "bank-guarantee"] {
        let report = weft_scenarios::run(scenario, &ctx).await.unwrap();
        assert!(report.passed, "{scenario} failed: {report:?}");
    }
    Chain {
        node,
        url,
        ctx,
        operator,
        _dir: dir,
    }
}

/// The first record under `prefix` (read as the operator) that `pick` accepts.
async fn find_record(ctx: &Ctx, prefix: &str, pick: impl Fn(&Value) -> bool) -> (String, Value) {
    let admin = ctx.admin_reader().unwrap();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/v1/state?prefix={prefix}&limit=200&after={a}"),
            None => format!("/v1/state?prefix={prefix}&limit=200"),
        };
        let page: Value = admin.get(&path).await.unwrap();
        for e in page["entries"].as_array().unwrap() {
            if pick(&e["value"]) {
                return (e["key"].as_str().unwrap().to_owned(), e["value"].clone());
            }
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => panic!("no record under {prefix} fits"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_walks_a_chain_in_a_real_browser() {
    let chain = chain().await;
    let (_driver, browser) = start_browser().await;
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explorer");
    std::fs::create_dir_all(&shots).unwrap();
    let page = Page {
        browser: &browser,
        base: chain.url.clone(),
        shots,
        step: std::cell::Cell::new(0),
    };
    let result = walk(&chain, &page).await;
    let _ = browser.close().await;
    chain.node.shutdown();
    result
}

async fn walk(chain: &Chain, page: &Page<'_>) {
    // Overview, anonymous: the chain's public metadata.
    page.open("").await;
    page.wait_text("main", "explorer-test").await;
    page.shot("overview-anonymous").await;

    // An anonymous viewer gets a clear refusal for member data, not a crash.
    page.open(&format!("#/account/{}", chain.operator.account()))
        .await;
    page.find("[data-testid=error]").await;
    page.shot("account-refused-anonymous").await;

    // Sign in as the operator (an administrator reads everything).
    page.open("").await;
    let seed = chain.operator.secret_hex();
    page.find("[data-testid=signin-input]")
        .await
        .send_keys(&seed)
        .await
        .unwrap();
    page.find("[data-testid=signin-button]")
        .await
        .click()
        .await
        .unwrap();
    page.wait_text(
        "[data-testid=whoami]",
        &chain.operator.account().to_hex()[..8],
    )
    .await;
    page.shot("signed-in").await;

    // Click through: blocks → the block of a guarantee's last transition → its transaction
    // with decoded operations → the workflow instance, whose template diagram highlights
    // the current state.
    let (instance_key, instance) = find_record(&chain.ctx, "instance/", |v| {
        v["template"].as_str() == Some("bank-guarantee")
            && v["history"].as_array().is_some_and(|h| !h.is_empty())
    })
    .await;
    let id = instance_key.trim_start_matches("instance/").to_owned();
    let state = instance["state"].as_str().unwrap().to_owned();
    let last = instance["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let height = last["height"].as_u64().unwrap();
    page.find("[data-testid=nav-blocks]")
        .await
        .click()
        .await
        .unwrap();
    page.all("[data-testid=block-row]").await;
    page.shot("blocks").await;
    let row = page
        .browser
        .find(Locator::Css(&format!(
            "[data-testid=block-row][href='#/block/{height}']"
        )))
        .await
        .unwrap_or_else(|_| panic!("block {height} is not listed"));
    row.click().await.unwrap();
    page.wait_text("main", &format!("{height}")).await;
    page.shot("block").await;
    page.find("[data-testid=tx-link]")
        .await
        .click()
        .await
        .unwrap();
    let ops = page.all("[data-testid=tx-op]").await;
    let op_text = ops[0].text().await.unwrap();
    assert!(
        op_text.contains(last["transition"].as_str().unwrap()),
        "the transaction shows its decoded transition: {op_text}"
    );
    page.shot("transaction").await;
    page.find(&format!("[data-testid=tx-op] a[href='#/instance/{id}']"))
        .await
        .click()
        .await
        .unwrap();
    page.find("[data-testid=workflow-diagram]").await;
    let current = page
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=workflow-diagram] .current')).map(e => e.getAttribute('data-testid'));",
            vec![],
        )
        .await;
    assert_eq!(
        current,
        json!([format!("state-{state}")]),
        "the current state is highlighted"
    );
    let visited = page
        .js(
            "return document.querySelectorAll('[data-testid=workflow-diagram] .visited').length;",
            vec![],
        )
        .await;
    assert!(
        visited.as_u64().unwrap() >= 1,
        "the path taken is highlighted"
    );
    page.shot("workflow-diagram").await;

    // An asset's provenance timeline, found with the search box and the keyboard: a vaccine
    // case and its EPCIS events.
    let (trail_key, trail) = find_record(&chain.ctx, "epcis/trail/", |v| {
        v.as_array().is_some_and(|a| a.len() >= 2)
    })
    .await;
    let asset = trail_key.trim_start_matches("epcis/trail/");
    let search = page.find("[data-testid=search-input]").await;
    search.send_keys(&format!("{asset}\u{e007}")).await.unwrap();
    // The results name every kind of record with that id; the asset is one of them.
    page.find(&format!("main a[href='#/asset/{asset}']"))
        .await
        .click()
        .await
        .unwrap();
    page.find("[data-testid=asset-timeline]").await;
    let events = page.all("[data-testid=timeline-event]").await;
    assert!(
        events.len() >= trail.as_array().unwrap().len(),
        "every EPCIS event of {asset} is on its timeline"
    );
    page.shot("asset-timeline").await;

    // Proof verification in the browser: a state record's proof verifies...
    let admin = chain.ctx.admin_reader().unwrap();
    let key = format!("balance/usd/{}", chain.operator.account());
    let proven: Value = admin
        .get(&format!("/v1/state/{key}?prove=true"))
        .await
        .unwrap_or_else(|_| panic!("no proof for {key}"));
    let bundle = proven["proof"].clone();
    let reference = bundle["reference"].as_str().unwrap().to_owned();
    page.find("[data-testid=nav-verify]")
        .await
        .click()
        .await
        .unwrap();
    let input = page.find("[data-testid=verify-input]").await;
    input.send_keys(&reference).await.unwrap();
    page.find("[data-testid=verify-button]")
        .await
        .click()
        .await
        .unwrap();
    let verdict = wait_verdict(page).await;
    assert_eq!(verdict, "true", "a genuine proof verifies in the browser");
    page.shot("proof-verified").await;

    // ...and a tampered one fails, showing which step.
    let mut tampered = bundle.clone();
    tampered["header"]["timestamp_ms"] =
        json!(tampered["header"]["timestamp_ms"].as_u64().unwrap() + 1);
    page.open("#/verify").await;
    let input = page.find("[data-testid=verify-bundle]").await;
    page.js(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        vec![serde_json::to_value(&input).unwrap(), json!(tampered.to_string())],
    )
    .await;
    page.find("[data-testid=verify-button]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_verdict(page).await,
        "false",
        "a tampered proof fails in the browser"
    );
    let failed = page
        .js(
            "return Array.from(document.querySelectorAll('[data-testid=verify-step]')).filter(e => e.getAttribute('data-ok') === 'false').length;",
            vec![],
        )
        .await;
    assert!(
        failed.as_u64().unwrap_or(0) >= 1,
        "the failing step is shown"
    );
    page.shot("proof-tampered").await;

    // The browser's cryptography agrees with Rust on the shared vectors.
    vectors(page).await;

    // Accessibility basics on every main page: each form control has a label, and the
    // navigation works from the keyboard.
    for route in ["", "#/blocks", "#/verify", "#/tokens", "#/workflows"] {
        page.open(route).await;
        page.find("main h1").await;
        let unlabeled = page
            .js(
                "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(e => e.labels.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')).map(e => e.outerHTML);",
                vec![],
            )
            .await;
        assert_eq!(unlabeled, json!([]), "unlabeled controls on {route:?}");
    }
    page.open("").await;
    page.find("main h1").await;
    let verify_nav = page.find("[data-testid=nav-verify]").await;
    page.js(
        "arguments[0].focus();",
        vec![serde_json::to_value(&verify_nav).unwrap()],
    )
    .await;
    verify_nav.send_keys("\u{e007}").await.unwrap();
    page.find("[data-testid=verify-input]").await;

    // A phone-sized screen: nothing wider than the viewport, navigation reachable.
    page.browser.set_window_size(390, 844).await.unwrap();
    page.open("").await;
    page.wait_text("main", "explorer-test").await;
    let overflow = page
        .js(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the overview overflows a phone: {overflow}"
    );
    page.shot("phone").await;
}

async fn wait_verdict(page: &Page<'_>) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(e) = page
            .browser
            .find(Locator::Css("[data-testid=verify-result][data-ok]"))
            .await
            && let Ok(Some(ok)) = e.attr("data-ok").await
            && !ok.is_empty()
        {
            return ok;
        }
        assert!(Instant::now() < deadline, "no verdict shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs fixtures/web-vectors.json through the explorer's own modules in the browser.
async fn vectors(page: &Page<'_>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/web-vectors.json"
    );
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let outcome = page
        .browser
        .execute_async(include_str!("explorer_vectors.js"), vec![vectors])
        .await
        .unwrap();
    assert_eq!(
        outcome["failures"],
        json!([]),
        "browser and Rust disagree: {outcome}"
    );
    assert!(outcome["checked"].as_u64().unwrap() >= 10, "{outcome}");
}
