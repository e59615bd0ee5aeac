from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sciml_core import InputError, load_checkpoint, save_checkpoint

torch = pytest.importorskip("torch")


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))


def save(path: Path, model: torch.nn.Module, version: str = "0.1.0", **kw: object) -> Path:
    return save_checkpoint(
        path,
        model.state_dict(),
        config={"width": 4, "act": "relu"},
        package="demo",
        version=version,
        **kw,
    )


def test_round_trip_restores_weights_and_config(tmp_path: Path, model: torch.nn.Module) -> None:
    path = save(tmp_path / "m.pt", model)
    ckpt = load_checkpoint(path, package="demo", version="0.1.7")
    assert ckpt.config == {"width": 4, "act": "relu"}
    assert (ckpt.package, ckpt.version) == ("demo", "0.1.0")
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    fresh.load_state_dict(ckpt.state_dict)
    x = torch.randn(5, 3)
    assert torch.equal(fresh(x), model(x))
    assert os.listdir(tmp_path) == ["m.pt"]


def test_file_layout_is_the_documented_one(tmp_path: Path, model: torch.nn.Module) -> None:
    payload = torch.load(save(tmp_path / "m.pt", model), weights_only=True)
    assert set(payload) == {"format", "package", "version", "config_json", "state_dict"}
    assert payload["format"] == 1
    assert payload["config_json"] == '{"act": "relu", "width": 4}'


def test_existing_file_is_refused_without_overwrite(tmp_path: Path, model: torch.nn.Module) -> None:
    path = save(tmp_path / "m.pt", model)
    before = path.read_bytes()
    with pytest.raises(InputError, match="exists; pass overwrite=True"):
        save(path, model, version="0.1.1")
    assert path.read_bytes() == before
    save(path, model, version="0.1.1", overwrite=True)
    assert load_checkpoint(path, package="demo", version="0.1.0").version == "0.1.1"


@pytest.mark.parametrize("other", ["0.2.0", "1.1.0", "0.0.9"])
def test_major_minor_mismatch_is_refused_naming_both_versions(
    tmp_path: Path, model: torch.nn.Module, other: str
) -> None:
    path = save(tmp_path / "m.pt", model, version="0.1.3")
    with pytest.raises(InputError) as info:
        load_checkpoint(path, package="demo", version=other)
    assert "0.1.3" in str(info.value) and other in str(info.value)
    assert "major.minor" in str(info.value)


def test_other_package_is_refused(tmp_path: Path, model: torch.nn.Module) -> None:
    path = save(tmp_path / "m.pt", model)
    with pytest.raises(
        InputError, match=r"written by demo 0\.1\.0; it cannot be loaded by other 0\.1\.0"
    ):
        load_checkpoint(path, package="other", version="0.1.0")


def test_pickled_objects_are_not_loaded(tmp_path: Path) -> None:
    evil = tmp_path / "evil.pt"

    with open(evil, "wb") as fh:  # a global reference: arbitrary code on a full unpickle
        pickle.dump({"format": 1, "fn": os.getcwd}, fh, protocol=2)
    with pytest.raises(InputError, match=r"cannot read a checkpoint from .*evil\.pt"):
        load_checkpoint(evil, package="demo", version="0.1.0")


def test_a_checkpoint_carrying_a_code_reference_is_refused(tmp_path: Path) -> None:
    # A torch.save file in the right layout plus a reference to a callable: a full unpickle
    # (weights_only=False) would load it and accept it; weights_only=True must refuse it.
    path = tmp_path / "hooked.pt"
    payload = {
        "format": 1,
        "package": "demo",
        "version": "0.1.0",
        "config_json": "{}",
        "state_dict": {"w": torch.ones(1)},
        "hook": os.getcwd,
    }
    torch.save(payload, path)
    assert torch.load(path, weights_only=False)["hook"] is os.getcwd  # the reference is real
    with pytest.raises(InputError, match=r"pickled Python objects \(posix.getcwd\)") as info:
        load_checkpoint(path, package="demo", version="0.1.0")
    assert "\x1b" not in str(info.value) and "\n" not in str(info.value)


def test_load_asks_torch_for_weights_only(
    tmp_path: Path, model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save(tmp_path / "m.pt", model)
    calls: list[dict[str, object]] = []
    real_load = torch.load

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(kwargs)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch, "load", spy)
    load_checkpoint(path, package="demo", version="0.1.0")
    assert [c.get("weights_only") for c in calls] == [True]


def _junk(path: Path) -> None:
    path.write_bytes(b"definitely not a checkpoint")


def _plain(path: Path) -> None:
    torch.save({"w": torch.ones(1)}, path)


def _layout(**broken: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        torch.save({"format": 1, "package": "demo", "version": "0.1.0", **broken}, path)

    return write


@pytest.mark.parametrize(
    ("write", "message"),
    [
        pytest.param(None, "does not exist", id="missing"),
        pytest.param(lambda p: p.write_bytes(b""), "is empty", id="empty"),
        pytest.param(_junk, "not a file written by torch.save", id="junk"),
        pytest.param(_plain, "is not a sciml checkpoint", id="plain-state-dict"),
        pytest.param(
            _layout(config_json="{not json", state_dict={}), "config is not JSON", id="bad-config"
        ),
        pytest.param(
            _layout(config_json="{}", state_dict=[1]), "state_dict is not a mapping", id="list"
        ),
        pytest.param(
            _layout(format=2, config_json="{}", state_dict={}), "checkpoint format 2", id="format"
        ),
        pytest.param(
            _layout(version="latest", config_json="{}", state_dict={}),
            "its version 'latest' is not like",
            id="saved-version",
        ),
    ],
)
def test_a_foreign_file_is_one_input_error_naming_argument_and_file(
    tmp_path: Path, write: Callable[[Path], None] | None, message: str
) -> None:
    path = tmp_path / "m.pt"
    if write is not None:
        write(path)
    with pytest.raises(InputError, match=message) as info:
        load_checkpoint(path, package="demo", version="0.1.0", argument="--checkpoint")
    assert str(info.value).startswith("--checkpoint: ") and repr(str(path)) in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda d, m: save_checkpoint(
                d / "a.pt", {}, config={"f": object()}, package="d", version="0.1.0"
            ),
            TypeError,
            "config must be JSON-serialisable",
            id="config-object",
        ),
        pytest.param(
            lambda d, m: save_checkpoint(
                d / "a.pt", {}, config={"f": float("nan")}, package="d", version="0.1.0"
            ),
            ValueError,
            "config must be JSON-serialisable",
            id="config-nan",
        ),
        pytest.param(
            lambda d, m: save_checkpoint(d / "a.pt", m, config={}, package="d", version="0.1.0"),
            TypeError,
            r"model.state_dict\(\)",
            id="module-not-state-dict",
        ),
        pytest.param(
            lambda d, m: save_checkpoint(d / "a.pt", {}, config={}, package="d", version="latest"),
            ValueError,
            "version must be a version like",
            id="save-version",
        ),
        pytest.param(
            lambda d, m: load_checkpoint(d / "a.pt", package="d", version="latest"),
            ValueError,
            "version must be a version like",
            id="load-version",
        ),
    ],
)
def test_a_mistake_of_the_calling_package_is_a_bug_not_bad_input(
    tmp_path: Path,
    model: torch.nn.Module,
    call: Callable[[Path, torch.nn.Module], object],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match) as info:
        call(tmp_path, model)
    assert type(info.value) is error  # not InputError: the command line keeps the traceback
    assert os.listdir(tmp_path) == []


def test_what_cannot_be_loaded_is_not_saved(tmp_path: Path, model: torch.nn.Module) -> None:
    # weights_only=True refuses numpy arrays: saving one would lose the run at load time.
    good = tmp_path / "good.pt"
    save(good, model)
    before = good.read_bytes()
    for name, state in [("np.pt", {"w": np.ones(2)}), ("good.pt", {"w": np.float64(1.0)})]:
        with pytest.raises(TypeError, match="state_dict must hold only tensors") as info:
            save_checkpoint(
                tmp_path / name, state, config={}, package="d", version="0.1.0", overwrite=True
            )
        assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
        assert "numpy" in str(info.value)  # the refused global is named
    assert sorted(os.listdir(tmp_path)) == ["good.pt"]
    assert good.read_bytes() == before  # the refused overwrite left the old checkpoint


def test_a_file_that_appears_during_the_save_is_not_replaced(
    tmp_path: Path, model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "m.pt"
    real_save = torch.save

    def save_while_someone_writes(obj: object, f: object) -> None:
        real_save(obj, f)  # type: ignore[arg-type]
        dest.write_text("the user's file, written meanwhile")

    monkeypatch.setattr(torch, "save", save_while_someone_writes)
    with pytest.raises(InputError, match="exists; it was not replaced"):
        save(dest, model)
    assert dest.read_text() == "the user's file, written meanwhile"
    assert os.listdir(tmp_path) == ["m.pt"]  # and no temporary file left
    save(dest, model, overwrite=True)  # asked: replaced
    assert load_checkpoint(dest, package="demo", version="0.1.0").config["width"] == 4


def test_failed_save_leaves_no_file(
    tmp_path: Path, model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_save(obj: object, f: object) -> None:
        Path(f).write_bytes(b"partial")  # type: ignore[arg-type]
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save(tmp_path / "m.pt", model)
    assert os.listdir(tmp_path) == []


def test_map_location(tmp_path: Path, model: torch.nn.Module) -> None:
    path = save(tmp_path / "m.pt", model)
    ckpt = load_checkpoint(path, package="demo", version="0.1.0", map_location="meta")
    assert all(t.device.type == "meta" for t in ckpt.state_dict.values())
