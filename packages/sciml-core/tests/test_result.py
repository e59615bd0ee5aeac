from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sciml_core import RESULT_SCHEMA_VERSION, InputError, Result, load_result, validate_result


def make_result() -> Result:
    res = Result("demo", "0.1.0", seed=3, device="cpu", quick=True, command="demo reproduce")
    res.add_table(
        "psnr",
        "PSNR [dB]",
        ["method", "psnr", "ok"],
        [["ours", np.float32(31.5), np.bool_(True)], ["baseline", 28, False]],
    )
    res.add_claim("ours beats baseline", "psnr(ours) > psnr(baseline)", np.float64(3.5), True)
    return res


@pytest.fixture
def valid() -> dict[str, Any]:
    return make_result().to_dict()


def test_schema_layout(valid: dict[str, Any]) -> None:
    assert list(valid) == ["schema", "package", "version", "meta", "tables", "figures", "claims"]
    assert valid["schema"] == RESULT_SCHEMA_VERSION == 1
    assert set(valid["meta"]) == {
        "seed",
        "device",
        "threads",
        "torch",
        "python",
        "command",
        "wall_s",
        "quick",
    }
    assert valid["meta"]["seed"] == 3 and valid["meta"]["quick"] is True
    assert valid["meta"]["command"] == "demo reproduce"
    assert valid["meta"]["wall_s"] >= 0
    assert valid["tables"][0]["rows"][0] == ["ours", 31.5, True]
    assert validate_result(valid) == []


def test_values_are_plain_json(valid: dict[str, Any]) -> None:
    row = valid["tables"][0]["rows"][0]
    assert type(row[1]) is float and type(row[2]) is bool
    assert type(valid["claims"][0]["observed"]) is float
    json.dumps(valid, allow_nan=False)


def test_non_finite_values_are_written_as_null(tmp_path: Path) -> None:
    res = Result("demo", "0.1.0", seed=0, device="cpu", quick=False)
    res.add_table("t", "T", ["a", "b", "c"], [[np.nan, float("inf"), np.array([1.0, np.nan])]])
    res.add_claim("c", "x", float("nan"), False)
    data = load_result(res.save(tmp_path))
    assert data["tables"][0]["rows"] == [[None, None, [1.0, None]]]
    assert data["claims"][0]["observed"] is None


def test_torch_version_is_read_without_importing_torch(valid: dict[str, Any]) -> None:
    import importlib.metadata
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        assert valid["meta"]["torch"] == torch.__version__
    else:
        try:
            expected = importlib.metadata.version("torch")
        except importlib.metadata.PackageNotFoundError:
            expected = None
        assert valid["meta"]["torch"] == expected


def test_save_is_atomic_and_round_trips(tmp_path: Path) -> None:
    res = make_result()
    out = tmp_path / "new" / "dir"
    path = res.save(out)
    assert path == out / "result.json"
    assert sorted(os.listdir(out)) == ["result.json"]  # no temporary file left behind
    data = load_result(out)
    assert data["tables"] == res.to_dict()["tables"]
    assert data == load_result(path)


def test_figures_must_exist_and_be_relative(tmp_path: Path) -> None:
    res = make_result()
    res.add_figure("plots/curve.png", "Convergence")
    with pytest.raises(ValueError, match="figure file\\(s\\) missing") as info:
        res.save(tmp_path)
    assert not isinstance(info.value, InputError)
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "curve.png").write_bytes(b"png")
    assert load_result(res.save(tmp_path))["figures"] == [
        {"file": "plots/curve.png", "caption": "Convergence"}
    ]


def test_invalid_save_writes_nothing_and_keeps_the_earlier_result(tmp_path: Path) -> None:
    first = make_result().save(tmp_path)
    before = first.read_bytes()
    res = make_result()
    res.add_figure("missing.png", "never drawn")
    with pytest.raises(ValueError, match="missing"):
        res.save(tmp_path)
    bad_seed = Result("demo", "0.1.0", seed=-1, device="cpu", quick=True)
    with pytest.raises(ValueError, match=r"meta\.seed"):
        bad_seed.save(tmp_path)
    assert first.read_bytes() == before
    assert os.listdir(tmp_path) == ["result.json"]


def test_save_into_a_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    user_file = tmp_path / "notes.txt"
    user_file.write_text("mine")
    with pytest.raises(InputError, match="is a file"):
        make_result().save(user_file)
    assert user_file.read_text() == "mine"
    assert os.listdir(tmp_path) == ["notes.txt"]


FIGURE_RULE = "relative to the output folder"
BUILDER_MISTAKES = [
    pytest.param(
        lambda r: r.add_table("u", "U", ["a", "b"], [[1, 2], [3]]),
        ValueError,
        "row 1 of table 'u' must have 2 values",
        id="row-length",
    ),
    pytest.param(
        lambda r: r.add_table("psnr", "again", ["a"], [[1]]),
        ValueError,
        "already used",
        id="dup-id",
    ),
    pytest.param(
        lambda r: r.add_table("", "E", ["a"], [[1]]), ValueError, "table id", id="empty-id"
    ),
    pytest.param(lambda r: r.add_table(3, "E", ["a"], [[1]]), TypeError, "table id", id="int-id"),
    pytest.param(lambda r: r.add_table("v", "V", [], []), ValueError, "column", id="no-columns"),
    pytest.param(
        lambda r: r.add_table("v", "V", ["a", 2], [[1, 2]]), TypeError, "columns", id="int-column"
    ),
    pytest.param(
        lambda r: r.add_table("w", "W", ["a"], [[object()]]),
        TypeError,
        "must be a number, string",
        id="object-cell",
    ),
    pytest.param(
        lambda r: r.add_table("k", "K", ["a"], [[{1: 2}]]),
        TypeError,
        "keys must be strings",
        id="key",
    ),
    pytest.param(
        lambda r: r.add_claim("", 1, 2, True), ValueError, "claim name must be", id="empty-claim"
    ),
    pytest.param(
        lambda r: r.add_claim("c", 1, 2, "yes"),
        TypeError,
        "holds of claim 'c' must be a bool",
        id="holds-str",
    ),
    pytest.param(
        lambda r: r.add_figure("/abs/fig.png", "x"), ValueError, FIGURE_RULE, id="absolute-figure"
    ),
    pytest.param(
        lambda r: r.add_figure("../fig.png", "x"), ValueError, FIGURE_RULE, id="up-figure"
    ),
    pytest.param(lambda r: r.add_figure("", "x"), ValueError, FIGURE_RULE, id="empty-figure"),
    pytest.param(
        lambda r: Result("", "0.1.0", seed=0, device="cpu", quick=True),
        ValueError,
        "package must be a non-empty string",
        id="empty-package",
    ),
    pytest.param(
        lambda r: Result("demo", None, seed=0, device="cpu", quick=True),
        TypeError,
        "version must be a non-empty string",
        id="none-version",
    ),
]


@pytest.mark.parametrize(("build", "error", "match"), BUILDER_MISTAKES)
def test_a_mistake_in_building_a_result_is_a_bug_not_bad_input(
    build,
    error: type[Exception],
    match: str,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(error, match=match) as info:
        build(make_result())
    assert type(info.value) is error  # not InputError: the command line keeps the traceback


def broken(valid: dict[str, Any], edit) -> list[str]:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(valid)
    edit(data)
    return validate_result(data)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d.update(schema=2), "schema must be 1; got 2"),
        (lambda d: d.pop("claims"), "result is missing key(s) ['claims']"),
        (lambda d: d.update(extra=1), "result has unknown key(s) ['extra']"),
        (lambda d: d.update(package=""), "package must be a non-empty string"),
        (lambda d: d["meta"].pop("wall_s"), "meta is missing key(s) ['wall_s']"),
        (lambda d: d["meta"].update(seed=-1), "meta.seed must be a non-negative int"),
        (lambda d: d["meta"].update(quick="yes"), "meta.quick must be a bool"),
        (lambda d: d["meta"].update(threads=1.5), "meta.threads must be an int"),
        (lambda d: d["meta"].update(torch=2), "meta.torch must be a string or null"),
        (lambda d: d["meta"].update(wall_s=-1.0), "meta.wall_s must be a number >= 0"),
        (lambda d: d.update(meta=[]), "meta must be an object"),
        (lambda d: d.update(tables={}), "tables must be a list"),
        (lambda d: d["tables"][0]["rows"][0].pop(), "tables[0].rows[0] has 2 values for 3 columns"),
        (lambda d: d["tables"][0].pop("title"), "tables[0] is missing key(s) ['title']"),
        (
            lambda d: d["tables"][0].update(columns="abc"),
            "tables[0].columns must be a non-empty list",
        ),
        (lambda d: d["tables"].append(dict(d["tables"][0])), "tables[1].id 'psnr' is used twice"),
        (
            lambda d: d["tables"][0]["rows"][0].__setitem__(1, float("nan")),
            "tables[0].rows[0][1] is a non-finite float",
        ),
        (lambda d: d["claims"][0].update(holds="true"), "claims[0].holds must be true or false"),
        (lambda d: d["claims"][0].pop("observed"), "claims[0] is missing key(s) ['observed']"),
        (lambda d: d["figures"].append({"file": 3, "caption": "c"}), "figures[0].file must be"),
        (
            lambda d: d["figures"].append({"file": "/tmp/a.png", "caption": "c"}),
            "figures[0].file must be relative",
        ),
        (lambda d: d["figures"].append({"file": "a.png"}), "figures[0] is missing key(s)"),
        (lambda d: d.update(schema=True), "schema must be 1; got True"),
        (lambda d: d.update(schema=1.0), "schema must be 1; got 1.0"),
        (lambda d: d.pop("schema"), "result is missing key(s) ['schema']"),
        (lambda d: d.update(version=""), "version must be a non-empty string"),
        (lambda d: d.update(meta=None), "meta must be an object; got NoneType"),
        (lambda d: d["meta"].update(seed=True), "meta.seed must be a non-negative int"),
        (lambda d: d["meta"].update(seed=1.5), "meta.seed must be a non-negative int"),
        (lambda d: d["meta"].update(device=0), "meta.device must be a string"),
        (lambda d: d["meta"].update(python=None), "meta.python must be a string"),
        (lambda d: d["meta"].update(command=["a"]), "meta.command must be a string"),
        (lambda d: d["meta"].update(threads=True), "meta.threads must be an int"),
        (lambda d: d["meta"].update(quick=1), "meta.quick must be a bool"),
        (lambda d: d["meta"].update(wall_s="3"), "meta.wall_s must be a number >= 0"),
        (lambda d: d["meta"].update(gpu="x"), "meta has unknown key(s) ['gpu']"),
        (lambda d: d["meta"].update(commit=""), "meta.commit must be a non-empty string"),
        (lambda d: d["meta"].update(machine=3), "meta.machine must be a non-empty string"),
        (lambda d: d["tables"][0].update(id=""), "tables[0].id must be a non-empty string"),
        (lambda d: d["tables"][0].update(id=3), "tables[0].id must be a non-empty string"),
        (lambda d: d["tables"][0].update(title=None), "tables[0].title must be a string"),
        (lambda d: d["tables"][0].update(columns=[], rows=[]), "tables[0].columns must be a"),
        (lambda d: d["tables"][0].update(rows={}), "tables[0].rows must be a list"),
        (lambda d: d["tables"][0]["rows"].__setitem__(0, "row"), "tables[0].rows[0] must be"),
        (lambda d: d["tables"][0].update(note=""), "tables[0] has unknown key(s) ['note']"),
        (lambda d: d["tables"].append(3), "tables[1] must be an object"),
        (lambda d: d.update(figures=None), "figures must be a list"),
        (lambda d: d.update(claims="none"), "claims must be a list"),
        (
            lambda d: d["figures"].append({"file": "a.png", "caption": None}),
            "figures[0].caption must be a string",
        ),
        (
            lambda d: d["figures"].append({"file": "a/../../b.png", "caption": "c"}),
            "figures[0].file must be relative",
        ),
        (
            lambda d: d["figures"].append({"file": ".", "caption": "c"}),
            "figures[0].file must be relative",
        ),
        (lambda d: d["claims"][0].update(name=""), "claims[0].name must be a non-empty string"),
        (
            lambda d: d["claims"][0].update(expected=float("inf")),
            "claims[0].expected is a non-finite float",
        ),
        (
            lambda d: d["claims"][0].update(observed={"a": float("nan")}),
            "claims[0].observed.a is a non-finite float",
        ),
        (lambda d: d["claims"][0].update(why="x"), "claims[0] has unknown key(s) ['why']"),
        (lambda d: d["claims"][0].update(holds=None), "claims[0].holds must be true or false"),
    ],
)
def test_validator_catches_each_invalid_case(valid: dict[str, Any], edit, expected: str) -> None:  # type: ignore[no-untyped-def]
    problems = broken(valid, edit)
    assert any(expected in p for p in problems), problems


def test_validator_rejects_non_objects() -> None:
    assert validate_result([]) == ["result must be a JSON object; got list"]


def test_load_result_of_a_path_the_os_cannot_look_up_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / ("r" * 300)  # stat() fails with ENAMETOOLONG, not ENOENT
    with pytest.raises(InputError, match=r"^--result: cannot read '.*': File name too long$"):
        load_result(path, argument="--result")


def test_load_result_reports_every_problem(tmp_path: Path, valid: dict[str, Any]) -> None:
    bad = copy.deepcopy(valid)
    bad["claims"][0]["holds"] = 1
    bad["meta"]["quick"] = None
    (tmp_path / "result.json").write_text(json.dumps(bad))
    with pytest.raises(InputError) as info:
        load_result(tmp_path)
    assert "claims[0].holds" in str(info.value) and "meta.quick" in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00junk", "not valid JSON"),
    ],
    ids=["missing", "empty", "not-json", "binary"],
)
def test_a_bad_result_file_is_one_input_error_naming_the_argument(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "result.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        load_result(path, argument="--result")
    assert str(info.value).startswith("--result: ") and repr(str(path)) in str(info.value)


def test_a_committed_full_run_may_name_its_commit_machine_and_note(valid: dict[str, Any]) -> None:
    valid["meta"].update(commit="320150f", machine="2-core CPU, one thread", note="figures kept")
    assert validate_result(valid) == []
