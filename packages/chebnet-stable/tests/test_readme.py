import re
from pathlib import Path

import pytest


def test_readme_quickstart_runs_and_prints_a_certified_lambda_max(capsys):
    readme = Path(__file__).parents[1] / "README.md"
    if not readme.exists():  # the isolated-wheel run copies tests/ without the README
        pytest.skip("README.md not next to the tests")
    code = re.search(r"```python\n(.*?)```", readme.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.strip() == "tensor([2.], dtype=torch.float64) tensor([True])"
    assert tuple(namespace["h"].shape) == (20, 16)
    grads = [p.grad for p in namespace["net"].parameters()]
    assert all(g is not None and bool(g.isfinite().all()) for g in grads)
