//! Four validator processes on 127.0.0.1 with authenticated + encrypted `lookup` p2p: they
//! commit and agree (digest and state root at every height). Runs the real binary.

use std::process::Command;

#[test]
fn four_processes_commit_and_agree_over_tcp() {
    let dir = std::env::temp_dir().join(format!("weft-consensus-spike-tcp-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_testnet"))
        .args([
            "run",
            "--validators",
            "4",
            "--port",
            "31400",
            "--height",
            "10",
            "--tps",
            "100",
            "--timeout",
            "240",
        ])
        .args(["--dir", dir.to_str().unwrap()])
        .output()
        .expect("run testnet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "testnet failed");
    assert!(stdout.contains("OK: 4 validators agree on 10 blocks"));
}

/// One validator process is killed with SIGKILL at half the run and restarted 3 s later on
/// the same data dir (simplex WAL, marshal archives, durable commit log): it catches up and
/// every node agrees on every height.
#[test]
fn kill_9_and_restart_one_process_over_tcp() {
    let dir =
        std::env::temp_dir().join(format!("weft-consensus-spike-kill-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_testnet"))
        .args([
            "run",
            "--validators",
            "4",
            "--port",
            "31500",
            "--height",
            "20",
            "--tps",
            "100",
        ])
        .args([
            "--timeout",
            "300",
            "--crash-one",
            "3",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("run testnet");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "testnet failed");
    assert!(stderr.contains("killed node 3 (SIGKILL)"));
    assert!(stdout.contains("OK: 4 validators agree on 20 blocks"));
}
