"""Heat problems: the analytic references satisfy every term's residual; exact constraints hold."""

import pytest
import torch

import pdes
from pinn.nn import MLP
from pinn.plan import residual


def exact_model(problem):
    """The reference solution as a model: points -> (N, fields)."""
    return lambda x: torch.stack([problem.reference.evaluate(x)[k] for k in problem.fields], dim=1)


@pytest.mark.parametrize("constraints", ["exact", "soft"])
@pytest.mark.parametrize("name", ["heat1d", "heat2d"])
def test_exact_solution_has_zero_residual(name, constraints):
    problem = pdes.get(name, constraints=constraints)
    generator = torch.Generator().manual_seed(0)
    for term in problem.terms:
        u = torch.rand(500, term.region.cube_dim, generator=generator, dtype=torch.float64)
        points, _ = term.region.from_unit_cube(u)
        r = residual(exact_model(problem), problem, term, points)
        assert r.abs().max() < 1e-10, term.name


@pytest.mark.parametrize("name", ["heat1d", "heat2d"])
def test_a_wrong_solution_has_nonzero_residual(name):
    problem = pdes.get(name, alpha=0.2)
    wrong = exact_model(pdes.get(name))  # the solution for the default alpha
    term = problem.terms[0]
    points, _ = term.region.from_unit_cube(torch.rand(200, term.region.cube_dim, dtype=torch.float64))
    assert residual(wrong, problem, term, points).abs().max() > 1e-2


@pytest.mark.parametrize("name", ["heat1d", "heat2d"])
def test_exact_constraints_impose_boundary_and_initial_data(name):
    problem = pdes.get(name, constraints="exact")
    soft = pdes.get(name, constraints="soft")
    assert [t.name for t in problem.terms] == ["pde"]
    network = MLP(problem.domain.bounds, 1, width=8, depth=2).double()
    model = lambda x: problem.transform(x, network(x))  # noqa: E731
    for term in soft.terms[1:]:  # boundary and initial residuals vanish for any network
        points, _ = term.region.from_unit_cube(torch.rand(300, term.region.cube_dim, dtype=torch.float64))
        assert residual(model, soft, term, points).abs().max() < 1e-12, term.name


def test_registry_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match="valid problems: .*heat1d"):
        pdes.get("heat3d")
    with pytest.raises(ValueError, match="no parameter 'beta'; its parameters: alpha, constraints"):
        pdes.get("heat1d", beta=1.0)
    with pytest.raises(ValueError, match="unknown constraints 'hard'; valid: exact, soft"):
        pdes.get("heat1d", constraints="hard")
