"""The manifest: validation, discovery order, precedence of every layer, and the README's example."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from model_training.cli import app
from model_training.config.manifest import manifest_schema, parse_manifest
from model_training.config.manifest_files import find_manifest, load_manifest_file
from model_training.config.resolve import env_settings, resolve
from model_training.errors import ConfigurationError, HyperparameterError
from model_training.output.runrecord import compute_run_id
from model_training.ports import SourceInfo

REPO = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 5, 6)


def readme_manifest() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Per-dataset manifest") :]
    return re.search(r"```json\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_readme_example_is_a_valid_manifest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(readme_manifest())
    source = load_manifest_file(path)
    config = resolve(run_date=DAY, manifest=source).config
    assert config.split.strategy == "stratified"
    assert config.split.fractions == (Decimal("0.8"), Decimal("0.1"), Decimal("0.1"))
    assert config.training.hyperparameters["num_round"] == "200"
    assert config.training.hyperparameters["scale_pos_weight"] == "7.9"
    assert config.training.use_spot and config.training.max_wait_seconds == 14400
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 0 and "valid manifest" in res.output


def test_unknown_keys_are_listed_with_the_closest_valid_name() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_manifest('{"lable": "y", "split": {"fractons": [1, 0, 0]}, "training": {"instance_typ": "x"}}', "m.json")
    text = info.value.message
    assert "unknown key 'lable' (did you mean 'label'?)" in text
    assert "unknown key 'split.fractons' (did you mean 'fractions'?)" in text
    assert "unknown key 'training.instance_typ' (did you mean 'instance_type'?)" in text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"drop": "y_no"}', "drop"),
        ('{"split": {"fractions": [0.5, 0.5]}}', "fractions"),
    ],
)
def test_invalid_manifests(document: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_manifest(document, "m.json")


def test_values_are_checked_by_the_containers_rules(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"training": {"hyperparameters": {"silent": 0, "eta": 3}}}))
    with pytest.raises(HyperparameterError, match="verbosity"):
        resolve(run_date=DAY, manifest=load_manifest_file(path))
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 1 and "eta" in res.output


def test_schema_is_published() -> None:
    schema = manifest_schema()
    assert schema["additionalProperties"] is False
    assert {"label", "drop", "features", "split", "training"} <= set(schema["properties"])
    res = CliRunner().invoke(app, ["manifest", "schema"])
    assert res.exit_code == 0 and json.loads(res.stdout)["title"] == "model-training manifest"


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "bank.csv"
    data.write_text("a,y\n1,0\n")
    monkeypatch.delenv("MODEL_TRAINING_DEFAULT_MANIFEST", raising=False)
    assert find_manifest(str(data)) is None
    default = tmp_path / "elsewhere.json"
    default.write_text('{"label": "d"}')
    monkeypatch.setenv("MODEL_TRAINING_DEFAULT_MANIFEST", str(default))
    assert find_manifest(str(data)).manifest.label == "d"  # type: ignore[union-attr]
    (tmp_path / "bank.manifest.json").write_text('{"label": "beside"}')
    assert find_manifest(str(data)).manifest.label == "beside"  # type: ignore[union-attr]
    (tmp_path / "manifest.json").write_text('{"label": "folder"}')
    assert find_manifest(str(data)).manifest.label == "folder"  # type: ignore[union-attr]
    explicit = tmp_path / "explicit.json"
    explicit.write_text('{"label": "explicit"}')
    assert find_manifest(str(data), explicit=explicit).manifest.label == "explicit"  # type: ignore[union-attr]


def test_precedence_of_every_layer(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"split": {"seed": 30}, "training": {"hyperparameters": {"eta": 0.3}}}))
    env = env_settings({"MODEL_TRAINING_SEED": "10", "MODEL_TRAINING_LABEL": "env_label", "MODEL_TRAINING_DROP": ""})
    ssm = {"seed": 20, "instance_type": "ml.c5.xlarge", "hyperparameters": {"eta": "0.25", "max_depth": "4"}}
    cli = {"hyperparameters": {"max_depth": "9"}}
    r = resolve(run_date=DAY, env=env, ssm=ssm, manifest=load_manifest_file(path), cli=cli)
    assert r.config.label == "env_label" and r.origins["label"] == "environment"
    assert r.config.training.instance_type == "ml.c5.xlarge" and r.origins["training.instance_type"] == "ssm"
    assert r.config.split.seed == 30 and r.origins["split.seed"].startswith("manifest")
    assert r.config.training.hyperparameters["eta"] == "0.3" and r.origins["training.hyperparameters.eta"].startswith("manifest")
    assert r.config.training.hyperparameters["max_depth"] == "9"
    assert r.origins["training.hyperparameters.max_depth"] == "command line"
    assert r.origins["training.hyperparameters.gamma"] == "default"


def test_a_changed_manifest_is_a_new_run(tmp_path: Path) -> None:
    source = SourceInfo("file:///d.csv", "d", 1, "ab" * 32)
    path = tmp_path / "m.json"
    path.write_text('{"split": {"seed": 1}}')
    a = compute_run_id(source, resolve(run_date=DAY, manifest=load_manifest_file(path)).config)
    path.write_text('{"split": {"seed": 2}}')
    b = compute_run_id(source, resolve(run_date=DAY, manifest=load_manifest_file(path)).config)
    assert a != b


def test_the_manifest_that_applied_goes_into_run_json(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,b,y_no,y_yes\n" + "".join(f"{i},{i % 3},{i % 2},{1 - i % 2}\n" for i in range(60)))
    (tmp_path / "manifest.json").write_text('{"split": {"strategy": "stratified"}, "drop": ["y_no", "b"]}')
    res = CliRunner().invoke(app, ["run", str(data), "-o", str(tmp_path / "out"), "--no-train", "-q", "--date", "2026-05-06"])
    assert res.exit_code == 0, res.output
    (record_path,) = (tmp_path / "out").rglob("run.json")
    record = json.loads(record_path.read_text())
    assert record["manifest"]["uri"] == (tmp_path / "manifest.json").as_uri()
    assert len(record["manifest"]["sha256"]) == 64
    assert record["config"]["split"]["strategy"] == "stratified"
    train = (record_path.parent / "train/part-00000").read_text().splitlines()
    assert all(len(line.split(",")) == 2 for line in train)  # label + a ("b" dropped by the manifest)


def test_config_show_names_the_origin_of_each_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,y\n1,0\n")
    (tmp_path / "manifest.json").write_text('{"split": {"seed": 5}}')
    monkeypatch.setenv("MODEL_TRAINING_FRACTIONS", "0.6,0.2,0.2")
    # --drop '': config show checks the columns as a run does, and this file has no y_no (the default drop)
    res = CliRunner().invoke(app, ["config", "show", str(data), "--label", "y", "--drop", "", "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["origins"]["label"] == "command line"
    assert shown["origins"]["split.seed"].startswith("manifest")
    assert shown["origins"]["split.fractions"] == "environment"
    assert shown["config"]["split"]["fractions"] == ["0.6", "0.2", "0.2"]


# -- regressions from trying to break it --------------------------------------------------------


@pytest.mark.parametrize("tag", ["Testing", "RunId", "Project", "ServingImage"])
def test_extra_tags_cannot_replace_the_stages_own(tag: str) -> None:
    with pytest.raises(ConfigurationError, match="set by the stage"):
        resolve(run_date=DAY, cli={"tags": {tag: "x"}})


@pytest.mark.parametrize("tag", ["MyTesting", "Testing2", "ABTestingGroup", "Test ing Testing"])
def test_extra_tags_whose_key_contains_testing_are_refused_with_a_hint(tag: str) -> None:
    # the deployment stage takes the FIRST tag whose key contains "Testing" (case-sensitive) as the test file's URI
    with pytest.raises(ConfigurationError) as info:
        resolve(run_date=DAY, cli={"tags": {"team": "growth", tag: "x"}})
    assert f"tag {tag!r} contains 'Testing'" in info.value.message
    assert "must not contain 'Testing'" in info.value.hint


@pytest.mark.parametrize(
    ("tag", "reserved"), [("testing", "Testing"), ("PROJECT", "Project"), (" Testing", "Testing"), ("Run Id ", "RunId")]
)
def test_look_alikes_of_the_stages_own_tags_are_refused(tag: str, reserved: str) -> None:
    """Issue 11 item 12: a key equal to a reserved tag ignoring case and white space was accepted."""
    with pytest.raises(ConfigurationError) as info:
        resolve(run_date=DAY, cli={"tags": {"team": "growth", tag: "x"}})
    assert f"tag {tag!r} is set by the stage (as {reserved!r}, ignoring case and spaces)" in info.value.message
    assert "in any case or spacing" in info.value.hint
    # only the Testing tag is the deployment stage's business (a breaking session saw it named for PROJECT)
    assert ("deployment stage reads Testing" in info.value.message) == (reserved == "Testing")


def test_a_tag_containing_testing_in_another_case_is_allowed() -> None:
    # the deployment stage matches "Testing" case-sensitively: only a look-alike of the whole name is refused
    assert (
        resolve(run_date=DAY, cli={"tags": {"LOADTESTING": "y", "testing-team": "x"}}).config.training.tags["LOADTESTING"] == "y"
    )


def test_manifest_check_refuses_a_look_alike_of_a_reserved_tag(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"training": {"tags": {"testing": "s3://elsewhere/test"}}}')
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 1, res.output
    assert "'testing' is set by the stage (as 'Testing'" in res.output and "hint:" in res.output


def test_manifest_check_refuses_a_tag_whose_key_contains_testing(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"training": {"tags": {"ABTesting": "b"}}}')
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 1, res.output
    assert "'ABTesting' contains 'Testing'" in res.output and "hint:" in res.output


def test_a_run_with_a_tag_whose_key_contains_testing_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,y_no,y_yes\n" + "".join(f"{i},{i % 2},{1 - i % 2}\n" for i in range(60)))
    (tmp_path / "manifest.json").write_text('{"training": {"tags": {"LoadTesting": "1"}}}')
    res = CliRunner().invoke(app, ["run", str(data), "-o", str(tmp_path / "out"), "-q", "--date", "2026-05-06"])
    assert res.exit_code == 1, res.output
    assert "'LoadTesting' contains 'Testing'" in res.output and "hint:" in res.output
    assert not (tmp_path / "out").exists() or not any(p.is_file() for p in (tmp_path / "out").rglob("*"))


@pytest.mark.parametrize(("tags", "message"), [({"AWS:x": "v"}, "aws:"), ({"k#!": "v"}, "allows letters")])
def test_tags_follow_sagemakers_rules(tags: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve(run_date=DAY, cli={"tags": tags})


@pytest.mark.parametrize(
    "document",
    [
        '{"split": {"seed": true}}',
        '{"split": {"seed": "42"}}',
        '{"training": {"use_spot": "yes"}}',
        '{"training": {"instance_count": "2"}}',
    ],
)
def test_manifest_values_have_the_schemas_types(document: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_manifest(document, "m.json")


def test_duplicate_keys_and_deep_nesting_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="duplicate keys label"):
        parse_manifest('{"label": "a", "label": "b"}', "m.json")
    with pytest.raises(ConfigurationError, match="nested too deeply"):
        parse_manifest("[" * 30_000 + "]" * 30_000, "m.json")  # under 64 KiB: a larger one is refused by its size


def test_a_setting_at_the_wrong_level_gets_its_path_suggested() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown key 'seed' \(did you mean 'split.seed'\?\)"):
        parse_manifest('{"seed": 5}', "m.json")


def test_a_higher_layers_strategy_drops_a_lower_layers_key(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"split": {"strategy": "group", "key": "cust"}}')
    r = resolve(run_date=DAY, manifest=load_manifest_file(path), cli={"strategy": "random"})
    assert r.config.split.strategy == "random" and r.config.split.key is None


def test_tiny_fractions_features_in_drop_and_tag_origins(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"at least 0\.000001"):
        resolve(run_date=DAY, cli={"fractions": (Decimal("0.7"), Decimal("0.3"), Decimal("1e-10"))})
    with pytest.raises(ConfigurationError, match="both features and drop: y_no"):
        resolve(run_date=DAY, cli={"features": ("a", "y_no")})
    path = tmp_path / "m.json"
    path.write_text('{"training": {"tags": {"seed": "x"}}}')
    r = resolve(run_date=DAY, manifest=load_manifest_file(path))
    assert r.origins["training.tags.seed"].startswith("manifest")
    assert r.origins["split.seed"] == "default"


def test_errors_from_layers_name_them_and_always_hint(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"split": {"strategy": "group"}}')
    with pytest.raises(ConfigurationError) as info:
        resolve(run_date=DAY, manifest=load_manifest_file(path))
    assert "needs a key column" in info.value.message and "manifest" in info.value.message
    assert info.value.hint


def test_a_missing_default_manifest_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,y\n1,0\n")
    for value in (str(tmp_path / "nowhere.json"), "s3://data", "s3://Bad_Bucket!/x"):
        monkeypatch.setenv("MODEL_TRAINING_DEFAULT_MANIFEST", value)
        with pytest.raises(ConfigurationError) as info:
            find_manifest(str(data))
        assert "MODEL_TRAINING_DEFAULT_MANIFEST" in info.value.hint


def test_a_manifest_above_64_kib_is_refused_before_parsing(tmp_path: Path) -> None:
    from model_training.config.manifest import MAX_MANIFEST_BYTES

    text = json.dumps({"label": "y", "drop": ["x" * MAX_MANIFEST_BYTES]})
    with pytest.raises(ConfigurationError, match=r"is \d+ bytes, more than the limit of 65536 bytes"):
        parse_manifest(text, "m.json")
    path = tmp_path / "manifest.json"
    path.write_text(text)
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 1 and "65536" in res.output, res.output


def test_problems_are_listed_up_to_twenty_then_counted() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_manifest(json.dumps({f"nope_{i}": 1 for i in range(45)}), "m.json")
    assert info.value.message.count("unknown key") == 20 and info.value.message.endswith("and 25 more")
    with pytest.raises(HyperparameterError) as hp:
        resolve(run_date=DAY, cli={"hyperparameters": {f"nope_{i}": 1 for i in range(45)}})
    assert len(hp.value.problems) == 21 and hp.value.problems[-1] == "and 25 more"


# -- every problem at once (issue 13) -------------------------------------------------------------

EVERY_KIND = """{"lable": "y",
 "split": {"seed": -1,
           "strategy": "group"},
 "training": {"hyperparameters": {"eta": 3},
              "tags": {"Testing": "x", "ABTesting": "y"},
              "instance_type": "ml.p5.48xlarge"}}
"""


def test_manifest_check_reports_every_problem_at_once_with_its_key_path_and_line(tmp_path: Path) -> None:
    """It reported the schema's problems, then on the next run the hyperparameters', then the tags', then the seed."""
    path = tmp_path / "m.json"
    path.write_text(EVERY_KIND)
    res = CliRunner().invoke(app, ["manifest", "check", str(path)])
    assert res.exit_code == 1, res.output
    error, *problems, hint = res.output.strip().splitlines()  # a header, then one line per problem
    where = f"manifest {path.resolve().as_uri()}"
    for problem in [
        f"{path}: line 1: unknown key 'lable' (did you mean 'label'?)",
        f"training.hyperparameters ({where}, line 4): eta: 3 is not in [0, 1]",
        f"split.seed ({where}, line 2): the seed is a whole number from 0 to 4294967295, not -1",  # not pydantic's words
        f"split.strategy ({where}, line 3): the group strategy needs a key column (split.key)",
        f"training.tags.Testing ({where}, line 5): tag 'Testing' is set by the stage",
        f"training.tags.ABTesting ({where}, line 5): tag 'ABTesting' contains 'Testing'",
        "training.instance_type 'ml.p5.48xlarge' is not an allowed instance type",
    ]:
        assert any(p.startswith(f"  {problem}") for p in problems), problem
    assert error == "error: invalid configuration (7 problems):" and len(problems) == 7
    # manifest check reads a manifest alone: its hints name the manifest's keys, not the command line's flags
    assert "the manifest's split.seed" in hint and "the manifest's split.key" in hint and "--" not in hint
    assert "manifest schema" in hint and "training.tags" in hint


def test_run_reports_the_problems_of_the_environment_the_manifest_and_the_flags_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,y_no,y_yes\n" + "".join(f"{i},{i % 2},{1 - i % 2}\n" for i in range(60)))
    (tmp_path / "manifest.json").write_text('{"split": {"seed": -1}, "training": {"tags": {"Testing": "x"}}}')
    monkeypatch.setenv("MODEL_TRAINING_INSTANCE_COUNT", "two")
    monkeypatch.setenv("MODEL_TRAINING_HYPERPARAMETERS", '{"max_depth": -1}')
    # (a flag value that does not parse, such as --date 'May 6', is a usage error before anything is read: exit 2)
    args = ["run", str(data), "-o", str(tmp_path / "out"), "-q", "--fractions", "0.5,0.6,0.1"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1, res.output
    error, *problems = res.output.splitlines()[:6]
    for problem in [
        "MODEL_TRAINING_INSTANCE_COUNT='two' cannot be read",
        "MODEL_TRAINING_HYPERPARAMETERS (environment): max_depth: -1 is not in [0, +inf)",
        "split.seed (manifest ",
        "--fractions (command line): fractions must sum to 1, got 0.5,0.6,0.1 (sum 1.2)",
        "training.tags.Testing (manifest ",
    ]:
        assert any(p.startswith(f"  {problem}") for p in problems), problem
    assert error == "error: invalid configuration (5 problems):"
    assert not (tmp_path / "out").exists()


def test_each_hyperparameter_problem_is_put_down_to_the_layer_that_set_its_hyperparameter(tmp_path: Path) -> None:
    """Every hyperparameter problem was attributed to every layer that set any hyperparameter: the manifest's
    'etaa' read "training.hyperparameters (command line, manifest ...)" beside -H max_depth=-3."""
    path = tmp_path / "m.json"
    path.write_text('{"training": {\n  "hyperparameters": {"etaa": 0.1, "objective": "multi:softprob"}}}')
    cli = {"seed": -1, "hyperparameters": {"max_depth": "-3", "eval_metric": "auc"}}
    with pytest.raises(ConfigurationError) as info:
        resolve(run_date=DAY, manifest=load_manifest_file(path), cli=cli)
    where = f"manifest {path.resolve().as_uri()}"
    messages = [e.message for e in info.value.errors]
    assert messages[:3] == [
        f"training.hyperparameters ({where}, line 2): unknown hyperparameter 'etaa' (the container refuses names it "
        "does not know), did you mean 'eta'?",
        "-H (command line): max_depth: -3 is not in [0, +inf)",
        # about two hyperparameters, each set by a layer of its own
        f"training.hyperparameters (command line, {where}): eval_metric: 'auc' needs a binary: or rank: objective "
        "(got objective multi:softprob), the container only applies it to classification and ranking",
    ]
    assert len(messages) == 4 and messages[3].startswith("--seed (command line): ")


def test_the_schema_s_problems_name_their_lines_in_a_manifest_of_several_lines() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_manifest('{\n "lable": "y",\n "split": {"seeds": 1},\n "drop": "y_no"\n}', "m.json")
    assert [e.line for e in info.value.errors] == [2, 3, 4]
    assert info.value.message == (
        "m.json: invalid manifest (3 problems): line 2: unknown key 'lable' (did you mean 'label'?); "
        "line 3: unknown key 'split.seeds' (did you mean 'seed'?); line 4: drop: Input should be a valid list"
    )


@pytest.mark.xfail(
    strict=True,
    reason="hyperparameter problems alone are one HyperparameterError, 'invalid hyperparameters: ...', that names no "
    "layer and no line: the layer and the manifest's line of each are given only when another setting has a problem "
    "too (then 'training.hyperparameters (manifest ..., line 4): eta: ...')",
)
def test_hyperparameter_problems_alone_name_their_layers_and_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.json"
    path.write_text('{\n  "training": {\n    "hyperparameters": {\n      "eta": 2,\n      "max_dept": 3\n    }\n  }\n}\n')
    monkeypatch.setenv("MODEL_TRAINING_HYPERPARAMETERS", '{"gamma": -1}')
    data = tmp_path / "d.csv"
    data.write_text("a,y_yes\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    res = CliRunner().invoke(app, ["run", str(data), "--manifest", str(path), "-o", str(tmp_path / "out"), "-H", "num_round=0"])
    assert res.exit_code == 1, res.output
    error = " ".join(res.output.split())  # the problems, on one line or one a line
    where = f"manifest {path.resolve().as_uri()}"
    for problem in [
        f"training.hyperparameters ({where}, line 4): eta: 2 is not in [0, 1]",
        f"training.hyperparameters ({where}, line 5): unknown hyperparameter 'max_dept'",
        "MODEL_TRAINING_HYPERPARAMETERS (environment): gamma: -1 is not in [0, +inf)",
        "-H (command line): num_round: 0 is not in [1, +inf)",
    ]:
        assert problem in error, problem
