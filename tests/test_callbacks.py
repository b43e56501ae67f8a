"""The training loop's callbacks: a user's own, the CSV and TensorBoard loggers, and a user's nn.Module."""

import csv
import sys

import pytest
import torch
from trivial import trivial_errors

import pdes
import pinn
from pinn.callbacks import Callback, CSVLogger, TensorBoardLogger
from pinn.cli import main
from pinn.nn import BatchNorm

TINY = dict(steps=6, lbfgs_steps=3, batch=16, width=8, depth=2, eval_every=3, eval_points=64, replicates=2)


class Recorder(Callback):
    """Notes every hook call."""

    def __init__(self):
        self.calls, self.records, self.losses = [], [], []

    def on_train_begin(self, run, state):
        self.calls.append(("begin", state.step))

    def on_step_begin(self, run, state, phase):
        self.calls.append(("step", phase))

    def on_losses(self, run, state, phase, losses, means):
        assert all(value.requires_grad for value in losses.values())
        self.losses.append(phase)

    def on_step_end(self, run, state, record):
        assert state.history["step"][-1] == record.step
        self.records.append(record)

    def on_train_end(self, run, state):
        self.calls.append(("end", state.step))


def test_a_user_callback_sees_every_step_and_its_losses_before_backward():
    recorder = Recorder()
    result = pinn.solve(pdes.get("heat1d"), progress=False, callbacks=[recorder], **TINY)
    phases = [r.phase for r in recorder.records]
    assert phases == ["adam"] * 6 + ["lbfgs"]
    assert [r.loss for r in recorder.records] == result.history["loss"]
    assert [r.step for r in recorder.records[:6]] == [1, 2, 3, 4, 5, 6]
    assert recorder.calls[0] == ("begin", 0) and recorder.calls[-1][0] == "end"
    assert recorder.losses[:6] == ["adam"] * 6 and len(recorder.losses) > 7  # L-BFGS evaluates several times
    assert recorder.records[-1].advanced == 3


def test_a_callback_that_raises_ends_the_run_and_still_gets_on_train_end(tmp_path):
    class Stop(Callback):
        ended = False

        def on_step_end(self, run, state, record):
            if record.step == 3:
                raise KeyboardInterrupt

        def on_train_end(self, run, state):
            Stop.ended = True

    with pytest.raises(KeyboardInterrupt):
        pinn.solve(pdes.get("heat1d"), out=tmp_path / "run", progress=False, callbacks=[Stop()], **TINY)
    assert Stop.ended
    resumed = pinn.solve(pdes.get("heat1d"), out=tmp_path / "run", progress=False, resume=True)
    whole = pinn.solve(pdes.get("heat1d"), progress=False, **TINY)
    assert resumed.history["loss"] == whole.history["loss"]


def test_csv_logger_writes_one_row_per_step_with_errors_at_evaluations(tmp_path):
    path = tmp_path / "log.csv"
    result = pinn.solve(pdes.get("heat1d"), progress=False, callbacks=[CSVLogger(path)], **TINY)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["step", "phase", "loss", "lr", "pde", "u_rel_l2"]
    assert [float(r["loss"]) for r in rows] == result.history["loss"]
    evaluated = {e["step"]: e["errors"]["u"]["rel_l2"] for e in result.history["eval"]}
    assert {int(r["step"]): float(r["u_rel_l2"]) for r in rows if r["u_rel_l2"]} == evaluated
    with pytest.raises(ValueError, match="exists; choose a new file"):
        pinn.solve(pdes.get("heat1d"), progress=False, callbacks=[CSVLogger(path)], **TINY)


def test_the_run_keeps_its_history_as_csv_beside_the_run_file(tmp_path):
    """``out/history.csv`` holds the rows a CSVLogger writes, L-BFGS chunks included, rewritten at each checkpoint."""
    settings = dict(TINY, lbfgs_steps=20)
    pinn.solve(
        pdes.get("heat1d"),
        out=tmp_path / "run",
        progress=False,
        callbacks=[CSVLogger(tmp_path / "log.csv")],
        **settings,
    )
    table = (tmp_path / "run" / "history.csv").read_text()
    assert table == (tmp_path / "log.csv").read_text() and "lbfgs" in table
    rows = list(csv.DictReader(table.splitlines()))
    assert len(rows) == len(pinn.load(tmp_path / "run").history["step"])


def test_the_progress_bar_shows_the_loss_of_every_step(monkeypatch):
    """Between evaluations the bar's postfix holds the latest loss, and the errors of the last evaluation."""
    shown = []
    original = pinn.callbacks.ProgressBar.on_step_end

    def spy(self, run, state, record):
        original(self, run, state, record)
        shown.append((record.step, record.loss, self.bar.postfix))

    monkeypatch.setattr(pinn.callbacks.ProgressBar, "on_step_end", spy)
    pinn.solve(pdes.get("heat1d"), progress=True, **dict(TINY, steps=12, eval_every=5, lbfgs_steps=0))
    assert [step for step, _, _ in shown] == list(range(1, 13))
    for step, loss, postfix in shown:
        assert f"loss={loss:.2e}" in postfix and (("u_rel_l2=" in postfix) == (step >= 5))


def test_tensorboard_logger_without_tensorboard_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        TensorBoardLogger("runs/tb")


def test_tensorboard_logger_writes_the_losses_and_errors(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    pinn.solve(pdes.get("heat1d"), progress=False, callbacks=[TensorBoardLogger(tmp_path)], **TINY)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss", "lr", "terms/pde", "rel_l2/u"} <= tags
    assert len(events.Scalars("loss")) == 7 and len(events.Scalars("rel_l2/u")) == 3


def sequential(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 1))  # fmt: skip


class Custom(torch.nn.Module):
    """A network of its own forward, which the forward engine does not know."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inner = torch.nn.Linear(2, 16)
        self.outer = torch.nn.Linear(16, 1)

    def forward(self, x):
        return self.outer(torch.tanh(self.inner(x)) ** 2)


@pytest.mark.parametrize("make", [sequential, Custom], ids=["sequential", "custom"])
def test_a_user_module_trains_saves_and_loads(tmp_path, make):
    problem = pdes.get("heat1d")
    settings = dict(TINY, steps=300, lbfgs_steps=0, eval_every=300, lr=1e-2, batch=64)
    result = pinn.solve(problem, out=tmp_path / "run", progress=False, model=make(), **settings)
    assert result.report["model"] == type(make()).__name__
    assert result.report["errors"]["u"]["rel_l2"] < 0.6 * trivial_errors(problem, result.config)["u"]
    points = torch.rand(32, 2, dtype=torch.float32)
    loaded = pinn.load(tmp_path / "run", model=make())
    torch.testing.assert_close(loaded.predict(points)["u"], result.predict(points)["u"], rtol=0, atol=0)
    with pytest.raises(ValueError, match="pass model= of its class"):
        pinn.load(tmp_path / "run")


def test_a_user_module_takes_the_forward_engine_where_its_layers_are_known():
    from pinn.step import setup

    problem = pdes.get("heat1d")
    for model, engine in ((sequential(), "forward"), (Custom(), "autograd")):
        run, state = setup(problem, pinn.Config(**TINY), model=model)
        run.losses(run.plan.draw(state.rules, state.generators, 16, run.device, state.dtype))
        assert run.plan.groups[0].engine == engine


@pytest.mark.parametrize(
    "model,message",
    [
        ("not a module", "must be a torch.nn.Module"),
        (torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1)), "BatchNorm1d"),
        (torch.nn.Identity(), "no trainable parameters"),
        (torch.nn.Sequential(torch.nn.Linear(2, 4), BatchNorm(4), torch.nn.Linear(4, 1)), "contains BatchNorm"),
    ],
)
def test_bad_user_models_are_refused_in_one_line(model, message):
    with pytest.raises(ValueError, match=message):
        pinn.solve(pdes.get("heat1d"), progress=False, model=model, **TINY)


def test_config_toml_of_a_run_reproduces_its_errors_exactly(tmp_path, capsys):
    options = ["--steps", "20", "--lbfgs-steps", "5", "--batch", "32", "--width", "8", "--depth", "2",
               "--eval-points", "128", "--replicates", "2", "--seed", "3"]  # fmt: skip
    assert main(["solve", "heat2d", *options, "--out", str(tmp_path / "first")]) == 0
    config = tmp_path / "first" / "config.toml"
    assert main(["solve", "heat2d", "--config", str(config), "--out", str(tmp_path / "again")]) == 0
    capsys.readouterr()
    first, again = (pinn.load(tmp_path / name).report for name in ("first", "again"))
    assert again["errors"] == first["errors"] and again["config"] == first["config"]
    assert (tmp_path / "again" / "config.toml").read_text() == config.read_text()


def test_a_problem_with_parameters_json_cannot_hold_still_saves_and_resumes(tmp_path, interrupted_solve):
    """A user's problem may carry a function as a parameter: the run file and report hold its repr."""

    def problem():
        p = pdes.get("heat1d")
        p.params = {"alpha": 0.4, "source": torch.sin}
        return p

    interrupted_solve(3, problem(), out=tmp_path / "run", **TINY)
    resumed = pinn.solve(problem(), out=tmp_path / "run", progress=False, resume=True)
    assert resumed.report["params"] == {"alpha": 0.4, "source": repr(torch.sin)}
    assert "alpha = 0.4" not in (tmp_path / "run" / "config.toml").read_text()  # TOML cannot hold them all
