"""The training loop on small in-memory problems: every method, the gradient
plumbing, resume, non-finite losses, early stopping and logging."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from training.testing import synthetic_problem, train_config
from training.monitor import Monitor
from training.trainer import NonFiniteLossError, Trainer
from training.weighting import StepInfo, list_weightings, make_weighting

PROBLEM = synthetic_problem(num_tasks=4, num_examples=64)  # all four task kinds
GRADIENT_METHODS = ("gradnorm", "pcgrad", "mgda_ub", "cagrad", "imtl_g", "nash_mtl", "aligned_mtl")


def fit(trainer, epochs=2, problem=PROBLEM, **kw):
    return trainer.fit(lambda e: problem.train(e, batch_size=16), problem.validation(), epochs=epochs,
                       **kw)


@pytest.mark.parametrize("method", list_weightings())
def test_every_method_trains_and_logs_its_weights(method):
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting=method), verbose=0)
    history = trainer.fit(lambda e: PROBLEM.train(e, batch_size=16), epochs=1)
    assert np.isfinite(history[-1]["train"]["t1_regression"]["loss"])
    weights = history[-1]["weights"]
    assert list(weights) == [t.name for t in PROBLEM.tasks]
    assert all(np.isfinite(w) for w in weights.values())


@pytest.mark.parametrize("method", ["pcgrad", "gradnorm"])
def test_gradients_on_parameters_trains(method):
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks,
                      train_config(weighting=method, gradient_on="parameters"), verbose=0)
    assert np.isfinite(fit(trainer, epochs=1)[-1]["val_loss"])


def _per_task_gradients(model, tasks, batch, variables, representation=()):
    """Reference: each task's loss and gradient, one tape per task."""
    from models.losses import masked_task_loss
    inputs, labels, masks = batch
    view = model.training_view(representation)
    grads, rep_grads = [], []
    for t in tasks:
        with tf.GradientTape(persistent=True) as tape:
            _, logits, reps = view(inputs, training=True)
            loss = masked_task_loss(t, labels[t.name], logits[t.name], masks[t.name])
        grads.append([tape.gradient(loss, v) for v in variables])
        if representation:
            rep_grads.append(np.concatenate([np.ravel(g) for g in tape.gradient(loss, reps)]))
    return grads, rep_grads


@pytest.mark.parametrize("gradient_on", ["representation", "parameters"])
def test_gradient_balancing_updates_shared_layers_with_the_weighted_sum(gradient_on):
    """With SGD, the update of a shared variable is lr * sum_t w_t g_t and that of a
    task's own variable lr * g_t, where w comes from the Gram matrix of the chosen gradients."""
    import keras
    tasks = PROBLEM.tasks[:3]
    model = PROBLEM.model(tasks=tasks)
    trainer = Trainer(model, tasks, train_config(weighting="mgda_ub", gradient_on=gradient_on),
                      verbose=0, optimizer=keras.optimizers.SGD(learning_rate=0.5))
    batch = next(iter(PROBLEM.train(0, batch_size=48, tasks=tasks)))
    variables = model.trainable_variables
    before = [v.numpy() for v in variables]
    rep = trainer.shared.representation if gradient_on == "representation" else ()
    grads, rep_grads = _per_task_gradients(model, tasks, batch, variables, rep)
    shared_ids = {id(v) for v in trainer.shared.variables}
    if gradient_on == "representation":
        g = np.stack(rep_grads)
    else:
        g = np.stack([np.concatenate([np.ravel(gt[i]) for i, v in enumerate(variables)
                                      if id(v) in shared_ids]) for gt in grads])
    w = make_weighting("mgda_ub", tasks).task_weights(StepInfo(
        losses=tf.ones([3]), step=tf.constant(0, tf.int64), gram=tf.constant(g @ g.T))).numpy()
    assert not np.allclose(w, w[0])  # a case where the weights matter
    trainer.train_step(batch)
    for i, v in enumerate(variables):
        parts = [gt[i] for gt in grads]
        if id(v) in shared_ids:
            expect = sum(wt * (0 if p is None else p.numpy()) for wt, p in zip(w, parts))
        else:
            expect = sum(0 if p is None else p.numpy() for p in parts)
        np.testing.assert_allclose(before[i] - v.numpy(), 0.5 * expect, rtol=2e-3, atol=2e-6,
                                   err_msg=v.path)


class InjectedFailure(RuntimeError):
    pass


@pytest.mark.parametrize("method", ["uncertainty", "pcgrad"])
def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path, method):
    epochs = 3
    full = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting=method),
                   run_dir=str(tmp_path / "full"), verbose=0)
    fit(full, epochs)

    def crashing(epoch):
        if epoch == 1:
            raise InjectedFailure("killed during epoch 2")
        return PROBLEM.train(epoch, batch_size=16)

    run = str(tmp_path / "resumed")
    first = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting=method), run_dir=run,
                    verbose=0)
    with pytest.raises(InjectedFailure):
        first.fit(crashing, PROBLEM.validation(), epochs=epochs)
    assert sorted(os.listdir(os.path.join(run, "checkpoints")))[0].startswith("checkpoint")
    # As a new process would: a fresh model (same seed, as train.py sets it from the config).
    second = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting=method), run_dir=run,
                     verbose=0)
    history = fit(second, epochs, resume=True)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for a, b in zip(full.model.get_weights(), second.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(full.weighting.variables, second.weighting.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    problem = synthetic_problem(num_tasks=2, num_examples=96)
    run = str(tmp_path / "run")
    trainer = Trainer(problem.model(), problem.tasks, train_config(), run_dir=run, verbose=0)

    def data(epoch):
        ds = problem.train(epoch, batch_size=24)
        if epoch == 1:  # an infinite regression label in epoch 2
            def poison(inputs, labels, masks):
                labels = dict(labels)
                labels["t1_regression"] = labels["t1_regression"] + np.inf
                return inputs, labels, masks
            ds = ds.map(poison)
        return ds

    with pytest.raises(NonFiniteLossError, match=r"loss became (inf|nan) at epoch 2.*epoch 1"):
        trainer.fit(data, problem.validation(), epochs=3)
    latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
    assert latest.endswith("-1")
    restored = Trainer(problem.model(), problem.tasks, train_config(), run_dir=run, verbose=0)
    assert restored.restore() == 1
    assert all(np.all(np.isfinite(w)) for w in restored.model.get_weights())
    assert [h["epoch"] for h in json.load(open(os.path.join(run, "history.json")))] == [1]


def test_early_stopping_on_a_validation_metric(tmp_path):
    import keras
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks,
                      train_config(monitor="val_t0_binary_accuracy", early_stopping_patience=2),
                      run_dir=str(tmp_path), verbose=0,
                      optimizer=keras.optimizers.SGD(learning_rate=0.0))  # nothing improves
    assert trainer.monitor.higher_is_better  # accuracy: the task says so
    history = fit(trainer, epochs=10)
    assert len(history) == 3  # the first epoch is the best; two more without improvement
    with pytest.raises(ValueError, match="valid: val_loss, loss, val_t0_binary_loss"):
        Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(monitor="val_nope_x"), verbose=0)


def test_the_monitor_direction_comes_from_the_task():
    # rmse and mae are lower-is-better for a regression task, whatever the name says;
    # monitor_mode overrides the task.
    tasks = PROBLEM.tasks
    assert not Monitor.resolve("val_t1_regression_rmse", tasks).higher_is_better
    assert Monitor.resolve("val_t3_multilabel_f1", tasks).higher_is_better
    assert not Monitor.resolve("loss", tasks).higher_is_better
    assert Monitor.resolve("val_t1_regression_rmse", tasks, mode="max").higher_is_better
    # A kind whose metric has an unusual direction is asked, not guessed from the name.
    task = tasks[0]
    odd = type("OddKind", (type(task),), {"metric_higher_is_better": staticmethod(
        lambda metric: metric != "accuracy")})(task.name, task.kind, task.classes)
    assert not Monitor.resolve("val_t0_binary_accuracy", (odd,) + tasks[1:]).higher_is_better


def test_metrics_by_task_kind_in_history_and_tensorboard(tmp_path):
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting="rlw"),
                      run_dir=str(tmp_path), verbose=0)
    fit(trainer, epochs=1)
    history = json.load(open(tmp_path / "history.json"))
    val = history[0]["validation"]
    assert set(val["t0_binary"]) == {"loss", "accuracy", "auc"}
    assert set(val["t1_regression"]) == {"loss", "rmse", "mae"}
    assert set(val["t2_multiclass"]) == {"loss", "accuracy"}  # top-k only with more than 3 classes
    assert set(val["t3_multilabel"]) == {"loss", "auc", "f1"}
    assert sum(history[0]["weights"].values()) == pytest.approx(4.0, rel=1e-4)
    tags = set()
    for root, _, files in os.walk(tmp_path / "logs" / "train"):
        for f in files:
            for event in tf.compat.v1.train.summary_iterator(os.path.join(root, f)):
                tags |= {v.tag for v in event.summary.value}
    assert {"weights/t0_binary", "t1_regression/rmse", "t3_multilabel/f1"} <= tags


def test_progress_bar_and_epoch_summary_on_the_console(capsys):
    trainer = Trainer(PROBLEM.model(), PROBLEM.tasks, train_config(weighting="equal"), verbose=1)
    fit(trainer, epochs=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "3/3" in out  # the progress bar
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  t")}
    assert "val_rmse=" in lines["t1_regression"] and "weight=1.000" in lines["t0_binary"]


def test_final_metrics_report_the_exact_auc():
    from sklearn.metrics import roc_auc_score
    problem = synthetic_problem(num_tasks=4, num_examples=400, missing=0.2)
    trainer = Trainer(problem.model(), problem.tasks, train_config(), verbose=0)
    fit(trainer, epochs=1, problem=problem)
    val = problem.validation()
    results = trainer.evaluate(val, exact=True)
    streaming = trainer.evaluate(val)
    batches = list(val)
    for task in problem.tasks:
        if "auc" not in results[task.name]:
            continue
        y = np.concatenate([b[1][task.name].numpy() for b in batches])
        m = np.concatenate([b[2][task.name].numpy() for b in batches]) > 0
        p = np.concatenate([trainer.model(b[0], training=False)[task.name].numpy() for b in batches])
        y, p = y.reshape(p.shape)[m], p[m]
        want = roc_auc_score(y, p, average="macro") if p.shape[1] > 1 else roc_auc_score(y, p)
        assert results[task.name]["auc"] == pytest.approx(want, abs=1e-6)
        assert results[task.name]["labelled"] == int(m.sum())
        assert abs(streaming[task.name]["auc"] - want) < 0.05  # the approximation is close
