//! The container image definition and the Kubernetes static-pod example
//! stay consistent with each other and with what the daemon needs (issue
//! #13): host network, NET_ADMIN and NET_RAW, the config at
//! /etc/keepalived/keepalived.conf, the image name that
//! packaging/container/build-local.sh builds. Building and running the
//! image for real (debootstrap base, `podman build`, `podman run --network
//! host` in a namespace, the VIP up and down) takes minutes and lives in
//! build-local.sh (packaging/container/README.md); this test runs in
//! milliseconds.

use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn static_pod_runs_on_the_host_network_with_the_capabilities() {
    let pod: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&read("packaging/kubernetes/rkeepalived-static-pod.yaml"))
            .expect("static pod YAML");
    assert_eq!(pod["kind"].as_str(), Some("Pod"));
    assert_eq!(pod["metadata"]["namespace"].as_str(), Some("kube-system"));
    let spec = &pod["spec"];
    assert_eq!(spec["hostNetwork"].as_bool(), Some(true), "hostNetwork");
    let ctr = &spec["containers"][0];
    let caps: Vec<&str> = ctr["securityContext"]["capabilities"]["add"]
        .as_sequence()
        .expect("capabilities.add")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for cap in ["NET_ADMIN", "NET_RAW"] {
        assert!(caps.contains(&cap), "{cap} missing: {caps:?}");
    }
    // The image build-local.sh tags, never pulled (no registry needed).
    let build = read("packaging/container/build-local.sh");
    let image = ctr["image"].as_str().expect("image");
    assert!(
        build.contains(&format!("IMAGE={image}")),
        "pod image {image} is not the one build-local.sh builds"
    );
    assert_eq!(ctr["imagePullPolicy"].as_str(), Some("IfNotPresent"));
    // The config the entrypoint reads, from the host, read-only.
    let args: Vec<&str> = ctr["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(args, ["--use-file", "/etc/keepalived/keepalived.conf"]);
    assert_eq!(
        ctr["volumeMounts"][0]["mountPath"].as_str(),
        Some("/etc/keepalived")
    );
    assert_eq!(ctr["volumeMounts"][0]["readOnly"].as_bool(), Some(true));
    assert_eq!(
        spec["volumes"][0]["hostPath"]["path"].as_str(),
        Some("/etc/keepalived")
    );
}

#[test]
fn containerfile_builds_offline_and_runs_in_the_foreground() {
    let cf = read("packaging/container/Containerfile");
    // Base images and the binary's origin are build arguments, so the
    // image builds from a locally imported base and a host-built binary.
    for arg in [
        "ARG RUNTIME_IMAGE=",
        "ARG BUILDER_IMAGE=",
        "ARG BINARY_FROM=build",
        "FROM ${RUNTIME_IMAGE}",
        "FROM ${BINARY_FROM} AS binary",
        "COPY --from=binary /src/target/release/rkeepalived /usr/sbin/rkeepalived",
    ] {
        assert!(cf.contains(arg), "Containerfile lacks {arg:?}");
    }
    // PID 1 of the container: no fork, logs to the console, SIGTERM stops.
    assert!(cf.contains(r#"ENTRYPOINT ["/usr/sbin/rkeepalived", "--dont-fork", "--log-console"]"#));
    assert!(cf.contains("STOPSIGNAL SIGTERM"));
    for flag in ["--network host", "--cap-add NET_ADMIN", "--cap-add NET_RAW"] {
        assert!(cf.contains(flag), "the Containerfile's usage lacks {flag}");
    }
    // Only the prebuilt binary of target/ goes into the build context.
    let ignore = read(".containerignore");
    assert!(ignore.lines().any(|l| l == "target"));
    assert!(ignore.lines().any(|l| l == "!target/container/rkeepalived"));
    assert!(read("packaging/container/build-local.sh")
        .contains("--build-arg PREBUILT=target/container/rkeepalived"));
}
