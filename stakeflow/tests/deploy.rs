//! The deployment descriptions, checked without a Docker engine or a cluster:
//! `docker-compose.yml` against the Compose Specification's JSON schema (as
//! check-jsonschema vendors it) and `deploy/kubernetes/` against Kubernetes'
//! schemas (kubernetes-validate, strict), both pinned by `scripts/setup`; the
//! two against each other (the same stakeflow services with the same
//! commands, environment, files and secret); and their configuration against
//! the binary (`stakeflow validate` accepts what each service is started with).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A schema checker `scripts/setup` installed.
fn tool(name: &str) -> PathBuf {
    let cache = std::env::var_os("STAKEFLOW_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/stakeflow"));
    let path = cache.join("pytools/bin").join(name);
    assert!(path.exists(), "{} is missing: run scripts/setup first", path.display());
    path
}

/// Run a checker; (succeeded, what it printed).
fn check(tool: &Path, args: &[&str], files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(tool).args(args).args(files).output().unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

const KUBERNETES: &str = "1.31.0";

fn compose_check(file: &Path) -> (bool, String) {
    check(&tool("check-jsonschema"), &["--builtin-schema", "vendor.compose-spec"], &[file.to_path_buf()])
}

fn kubernetes_check(files: &[PathBuf]) -> (bool, String) {
    check(&tool("kubernetes-validate"), &["--strict", "-k", KUBERNETES], files)
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("deploy/kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_compose_file_follows_the_compose_specification() {
    let file = root().join("docker-compose.yml");
    let (ok, said) = compose_check(&file);
    assert!(ok, "{said}");
    // The checker is not a rubber stamp: a misspelt key is refused.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("docker-compose.yml");
    std::fs::write(&broken, std::fs::read_to_string(&file).unwrap().replacen("    command:", "    comand:", 1)).unwrap();
    let (ok, said) = compose_check(&broken);
    assert!(!ok && said.contains("comand"), "{said}");
}

#[test]
fn the_kubernetes_manifests_follow_their_schemas() {
    let files = manifests();
    let (ok, said) = kubernetes_check(&files);
    assert!(ok, "{said}");
    let resources: usize = files.iter().map(|f| documents(f).len()).sum();
    assert_eq!(said.matches(" passed for resource ").count(), resources, "every resource checked: {said}");
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("stakeflow.yaml");
    let text = std::fs::read_to_string(root().join("deploy/kubernetes/stakeflow.yaml")).unwrap();
    std::fs::write(&broken, text.replacen("readinessProbe:", "readynessProbe:", 1)).unwrap();
    let (ok, said) = kubernetes_check(&[broken]);
    assert!(!ok && said.contains("readynessProbe"), "{said}");
}

fn documents(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// A stakeflow service as a deployment runs it.
#[derive(Debug, PartialEq)]
struct Service {
    command: Vec<String>,
    env: BTreeMap<String, String>,
    /// Secret names mounted under /run/secrets.
    secrets: Vec<String>,
}

fn compose_services() -> BTreeMap<String, Service> {
    let mut doc = documents(&root().join("docker-compose.yml")).remove(0);
    doc.apply_merge().unwrap();
    let mut out = BTreeMap::new();
    for (name, s) in doc["services"].as_mapping().unwrap() {
        if s["image"].as_str() != Some("stakeflow:latest") {
            continue;
        }
        // The whole configuration directory is mounted where the commands read it.
        assert_eq!(strings(&s["volumes"]), vec!["./config:/etc/stakeflow:ro"], "{name:?}");
        let env = s["environment"].as_mapping().unwrap().iter().map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into())).collect();
        let secrets = strings(&s["secrets"]);
        out.insert(name.as_str().unwrap().to_string(), Service { command: strings(&s["command"]), env, secrets });
    }
    out
}

fn kubernetes_services() -> (BTreeMap<String, Service>, BTreeMap<String, String>) {
    let docs: Vec<Value> = manifests().iter().flat_map(|f| documents(f)).collect();
    let config_map = docs.iter().find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "stakeflow-config").expect("the stakeflow-config ConfigMap");
    let data: BTreeMap<String, String> =
        config_map["data"].as_mapping().unwrap().iter().map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into())).collect();
    let mut files = BTreeMap::new();
    let mut out = BTreeMap::new();
    for d in docs.iter().filter(|d| d["kind"] == "Deployment" && d["spec"]["template"]["spec"]["containers"][0]["image"] == "stakeflow:latest") {
        let pod = &d["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        let env = c["env"].as_sequence().unwrap().iter().map(|e| (e["name"].as_str().unwrap().into(), e["value"].as_str().unwrap().into())).collect();
        let mut secrets = Vec::new();
        for mount in c["volumeMounts"].as_sequence().unwrap() {
            let volume = pod["volumes"].as_sequence().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
            let at = mount["mountPath"].as_str().unwrap();
            if at == "/etc/stakeflow" {
                // Each file of the ConfigMap lands where the compose mount has it.
                for item in volume["configMap"]["items"].as_sequence().unwrap() {
                    files.insert(item["path"].as_str().unwrap().to_string(), data[item["key"].as_str().unwrap()].clone());
                }
            } else {
                assert_eq!(at, "/run/secrets", "only the configuration and the secrets are mounted");
                // Every key of the secret is a file there; the names are the compose secrets'.
                secrets.push(volume["secret"]["secretName"].as_str().unwrap().to_string());
            }
        }
        out.insert(d["metadata"]["name"].as_str().unwrap().to_string(), Service { command: strings(&c["command"]), env, secrets });
    }
    (out, files)
}

#[test]
fn compose_and_kubernetes_run_the_same_services_alike() {
    let compose = compose_services();
    let (mut kube, files) = kubernetes_services();
    assert_eq!(compose.keys().collect::<Vec<_>>(), ["api", "ingest", "nominate", "score"], "every mode as its own service");
    // The nominator's secret: one Kubernetes secret holding the compose secrets as keys.
    let nominate = kube.get_mut("nominate").unwrap();
    assert_eq!(nominate.secrets, ["stakeflow-nominator"]);
    nominate.secrets = compose["nominate"].secrets.clone();
    assert_eq!(kube, compose);
    // The configuration files are the repository's, byte for byte.
    for (path, text) in &files {
        let committed = std::fs::read_to_string(root().join("config").join(path)).unwrap();
        assert_eq!(text, &committed, "deploy/kubernetes/stakeflow.yaml's {path} differs from config/{path}");
    }
    for command in compose.values().map(|s| &s.command) {
        for file in command.iter().filter_map(|a| a.strip_prefix("/etc/stakeflow/")) {
            assert!(files.contains_key(file), "{file} is not in the ConfigMap");
        }
    }
}

#[test]
fn each_service_starts_with_a_configuration_stakeflow_validate_accepts() {
    // The deployment's files where its paths say, inside a scratch directory.
    let dir = tempfile::tempdir().unwrap();
    let (etc, secrets) = (dir.path().join("etc/stakeflow"), dir.path().join("run/secrets"));
    let relocate = |s: &str| s.replace("/etc/stakeflow", &etc.display().to_string()).replace("/run/secrets", &secrets.display().to_string());
    for sub in ["networks", "candidates"] {
        std::fs::create_dir_all(etc.join(sub)).unwrap();
    }
    let (_, files) = kubernetes_services();
    for (path, text) in &files {
        std::fs::write(etc.join(path), relocate(text)).unwrap();
    }
    std::fs::create_dir_all(&secrets).unwrap();
    // A stand-in key: the development phrase's, as the devnet's nominator uses.
    std::fs::copy(root().join("config/devnet-secrets/nominator1"), secrets.join("nominator-1")).unwrap();

    for (name, service) in compose_services() {
        let mut args: Vec<String> = service.command.iter().skip(1).map(|a| relocate(a)).collect();
        assert_eq!(args.pop().as_deref(), Some(name.as_str()), "{name} runs its own mode");
        let out = Command::new(env!("CARGO_BIN_EXE_stakeflow"))
            .args(&args)
            .arg("validate")
            .env_clear()
            .envs(&service.env)
            .output()
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{name}: {said}");
        assert!(said.contains("1 network(s): paseo"), "{name}: {said}");
        if args.iter().any(|a| a.ends_with("stakeflow.compose.toml")) {
            assert!(said.contains("nominator paseo: 1 account(s)") && said.contains("dry run true"), "{name}: {said}");
        }
        let phrase = std::fs::read_to_string(secrets.join("nominator-1")).unwrap();
        assert!(!said.contains(phrase.trim()), "a secret never shows");
    }
}
