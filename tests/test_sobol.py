"""Sobol estimators against the Ishigami function's analytic indices, an input that does
not enter the model, and grouped inputs."""

import numpy as np

from harmoni_pipeline.scoring.sobol import SobolSums, design, sobol_indices

A, B = 7.0, 0.1


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def analytic():
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_first_and_total_indices():
    s1, st = sobol_indices(ishigami, 100_000, [1, 1, 1], np.random.default_rng(7))
    want_s1, want_st = analytic()  # S1 ≈ (0.314, 0.442, 0), ST ≈ (0.558, 0.442, 0.244)
    assert np.allclose(s1, want_s1, atol=0.02)
    assert np.allclose(st, want_st, atol=0.02)


def test_input_outside_the_formula_has_zero_indices():
    def model(u):  # the third input is ignored
        return u[:, 0] + 2 * u[:, 1] ** 2

    s1, st = sobol_indices(model, 20_000, [1, 1, 1], np.random.default_rng(1))
    assert abs(s1[2]) < 0.01 and st[2] == 0.0
    assert st[1] > st[0] > 0.1


def test_chunked_sums_equal_one_pass_and_group_inputs():
    def model(u):  # input 0 is a group of two columns; outputs per "kecamatan" (2)
        return np.stack([u[:, 0] + u[:, 1], 3 * u[:, 2]], axis=1)

    plan = design(4_000, [2, 1], np.random.default_rng(3))
    whole = SobolSums(2, (2,))
    whole.add(model(plan.a), model(plan.b), [model(plan.ab(i)) for i in range(2)])
    chunked = SobolSums(2, (2,))
    for lo in range(0, 4_000, 1_000):
        rows = slice(lo, lo + 1_000)
        chunked.add(model(plan.a[rows]), model(plan.b[rows]), [model(plan.ab(i, rows)) for i in range(2)])
    assert np.allclose(whole.indices()[0], chunked.indices()[0])
    s1, st = chunked.indices()
    assert np.allclose(st[:, 0], [1.0, 0.0], atol=0.03) and np.allclose(st[:, 1], [0.0, 1.0], atol=0.03)


def test_constant_output_gives_null_indices():
    s1, st = sobol_indices(lambda u: np.ones(len(u)), 100, [1], np.random.default_rng(0))
    assert np.isnan(s1).all() and np.isnan(st).all()
