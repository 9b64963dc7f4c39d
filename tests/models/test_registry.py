"""The registry: listing with wildcards, lookups, refusing duplicates, entry-point plugins."""

import json
import subprocess
import textwrap

import pytest

from conftest import PYTHON, REPO
from seqmnist_zoo import (
    InvalidArgumentError,
    ModelSpec,
    UnknownModelError,
    get_model_spec,
    list_models,
    model_info,
    register_model,
    valid_timesteps,
)
from seqmnist_zoo.models.registry import Registry, attach_weights, read_manifest
from seqmnist_zoo.models.specs import WeightsSpec

FAMILIES = ["bilstm", "gru", "lstm", "simple_rnn", "stacked_lstm"]


def test_list_models_patterns():
    assert list_models() == FAMILIES
    assert list_models("*lstm") == ["bilstm", "lstm", "stacked_lstm"]
    assert list_models("?ru") == ["gru"]
    assert list_models("transformer*") == []


def test_list_pretrained_matches_manifest():
    shipped = sorted({w.model for w in read_manifest()})
    assert list_models(pretrained=True) == shipped


def test_unknown_model_lists_known_names():
    with pytest.raises(UnknownModelError) as err:
        get_model_spec("lstn")
    assert "'lstn'" in str(err.value) and all(n in str(err.value) for n in FAMILIES)
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)


def test_register_refuses_duplicates_and_non_specs():
    with pytest.raises(InvalidArgumentError, match="already registered"):
        register_model(ModelSpec("gru", builder="x:y", family="gru"))
    with pytest.raises(InvalidArgumentError, match="ModelSpec"):
        Registry(entry_point_group=None).register({"name": "x"})


def test_a_robust_recipe_with_a_field_recipes_do_not_have_is_refused_where_it_is_written():
    with pytest.raises(InvalidArgumentError) as err:
        ModelSpec("tiny", builder="m:f", family="lstm", robust_recipe={"open_4s": True})
    assert "open_4s" in str(err.value) and "open_fours" in str(err.value)  # the typo and the fields
    with pytest.raises(InvalidArgumentError, match="must be a mapping of Recipe fields"):
        ModelSpec("tiny", builder="m:f", family="lstm", robust_recipe=5)
    spec = ModelSpec("tiny", builder="m:f", family="lstm", robust_recipe={"open_fours": True})
    assert spec.recipe_for("mnist-robust").open_fours


def test_a_family_robust_recipe_wins_over_the_shared_one():
    spec = ModelSpec("tiny", builder="m:f", family="lstm", robust_recipe={"epochs": 40, "elastic": False})
    recipe = spec.recipe_for("mnist-robust")
    assert (recipe.epochs, recipe.elastic, recipe.augment) == (40, False, "handwriting")


def test_private_registry_is_independent():
    reg = Registry(entry_point_group=None)
    reg.register(ModelSpec("a_model", builder="m:f", family="lstm"))
    assert reg.names() == ["a_model"]
    assert "a_model" not in list_models()
    with pytest.raises(UnknownModelError, match="a_model"):
        reg.get("other")


def test_model_info_is_plain_data():
    info = model_info("simple_rnn")
    json.dumps(info)  # serialisable as is
    assert info["recipe"]["clipnorm"] == 1.0
    assert info["defaults"]["timesteps"] == 28
    assert info["valid_timesteps"] == valid_timesteps()
    assert info["num_params"] == 128 * (28 + 128 + 1) + 129 * 10


def test_valid_timesteps_are_the_divisors_of_784():
    steps = valid_timesteps()
    assert steps[0] == 1 and steps[-1] == 784 and 28 in steps and 16 in steps and 49 in steps
    assert all(784 % t == 0 for t in steps) and 27 not in steps


def test_attach_weights_matches_by_name():
    specs = [ModelSpec("a", builder="m:f", family="lstm"), ModelSpec("b", builder="m:f", family="gru")]
    weights = [WeightsSpec("b", "mnist", "b.weights.h5", "0" * 64)]
    attached = {s.name: s.pretrained_tags for s in attach_weights(specs, weights)}
    assert attached == {"a": (), "b": ("mnist",)}
    with pytest.raises(InvalidArgumentError, match="available: none"):
        specs[0].weights_for("mnist")


def _make_plugin(site, body):
    package = site / "zooplugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(body))
    info = site / "zooplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zooplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[seqmnist_zoo.models]\ntiny = zooplugin:specs\n")


def _run(code, site, python_env):
    env = dict(python_env, PYTHONPATH=f"{site}:{REPO}", KERAS_BACKEND="tensorflow")
    return subprocess.run([PYTHON, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True)


def test_entry_point_plugin_adds_a_family(tmp_path, python_env):
    _make_plugin(tmp_path, """
        from seqmnist_zoo import ModelSpec

        def tiny(**kwargs):
            from keras import layers
            from seqmnist_zoo.models.builders import build_model
            kwargs.setdefault("units", 4)
            return build_model("tiny_gru", lambda x, u: layers.GRU(u[0])(x), **kwargs)

        def specs():
            return [ModelSpec("tiny_gru", builder=tiny, family="gru", defaults={"units": 4})]
    """)
    result = _run("""
        import seqmnist_zoo as z
        assert "tiny_gru" in z.list_models("tiny*"), z.list_models()
        model = z.get_model("tiny_gru", timesteps=14)
        print(model.output_shape, model.count_params())
    """, tmp_path, python_env)
    assert result.returncode == 0, result.stderr
    assert "(None, 10) " in result.stdout


def test_broken_plugin_warns_and_zoo_still_works(tmp_path, python_env):
    _make_plugin(tmp_path, "def specs():\n    raise RuntimeError('plugin exploded')\n")
    result = _run("""
        import seqmnist_zoo as z
        print(z.list_models())
    """, tmp_path, python_env)
    assert result.returncode == 0, result.stderr
    assert "'lstm'" in result.stdout
    assert "skipped plugin 'tiny'" in result.stderr and "plugin exploded" in result.stderr
