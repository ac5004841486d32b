"""scripts/peers/sglang_routers.py's loader on partial copies of the peers' sources: with an `errors`
dict every peer that cannot load is named there and the others still load (a copy holding only
SGLang's Triton file must give the Triton router, as the results run needs); without one the first
failure is raised."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "peers"))
import sglang_routers  # noqa: E402


def test_each_missing_sglang_file_is_named_and_nothing_raises(tmp_path):
    (tmp_path / "sglang").mkdir()
    errors = {}
    assert sglang_routers.load_peers(tmp_path, errors=errors) == []
    assert "moe_fused_gate.py is missing" in errors["sglang-triton"]
    assert "topk.py is missing" in errors["sglang-torch"]


def test_without_an_errors_dict_the_first_failure_is_raised(tmp_path):
    (tmp_path / "sglang").mkdir()
    with pytest.raises(sglang_routers.PeerLoadError, match="moe_fused_gate.py is missing"):
        sglang_routers.load_peers(tmp_path)


def test_a_folder_with_no_peers_is_an_error_even_with_an_errors_dict(tmp_path):
    with pytest.raises(sglang_routers.PeerLoadError, match="no sglang/ or vllm/ folder"):
        sglang_routers.load_peers(tmp_path, errors={})
