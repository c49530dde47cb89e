"""Commands for the learned models: `routing train|evaluate|export-history`, `kinds ...`.

`kinds` has `train` and `evaluate` too.

Training needs the optional extra (`pip install 'sp4n-gateway[learn]'`); evaluation and
export need only the core install. Messages are in Bahasa Indonesia; `--json` is for machines.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from gateway.cli.base import CONFIG_OPTION, load_or_exit, main, open_runtime
from normalizer.classify import as_kind
from normalizer.learn.history import History, label_resolver, read_history, read_mapping
from normalizer.learn.metrics import THRESHOLDS, figures
from normalizer.learn.model import ModelError, TextModel, load_model, save_model
from vocabulary.kinds import KIND_NAMES, Kind

HISTORY_OPTION = click.option(
    "--history",
    "history_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Berkas CSV riwayat berlabel (UTF-8; koma, titik koma atau tab).",
)
MODEL_OUT = click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Berkas model yang ditulis.",
)
MODEL_IN = click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Berkas model hasil perintah train.",
)
TEST_OPTION = click.option(
    "--test",
    "test_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Berkas CSV uji (tidak dipakai saat pelatihan).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Keluaran JSON untuk mesin.")
MAP_OPTION = click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML 'nama instansi di riwayat: kode instansi di konfigurasi'.",
)
CHECK_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="SP4N_CONFIG",
    help="Bila diberikan, baris dengan kode instansi yang tidak ada di konfigurasi dilewati.",
)


def _trainer() -> Any:
    """The training module, or a clear message when the `learn` extra is missing."""
    try:
        from normalizer.learn import train  # noqa: PLC0415
    except ImportError as exc:
        raise click.ClickException(
            f"pelatihan memerlukan scikit-learn ({exc.name} tidak ada): pasang dengan"
            " pip install 'sp4n-gateway[learn]'"
        ) from None
    return train


def _read(path: Path, text: str, label: str, resolve: Callable[[str], str | None]) -> History:
    try:
        return read_history(path, text, label, resolve)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None


def _skipped_line(history: History) -> str:
    s = history.skipped
    line = (
        f"{len(history.texts)} baris dipakai; dilewati: {s['empty_text']} teks kosong,"
        f" {s['empty_label']} label kosong, {s['unknown_label']} label tak dikenal,"
        f" {s['duplicate']} duplikat"
    )
    if history.unknown_labels:
        names = ", ".join(f"{n!r} ({c})" for n, c in history.unknown_labels.most_common(5))
        line += f"\n  label tak dikenal terbanyak: {names}"
    return line


def _routing_resolver(
    map_path: Path | None, config_path: Path | None
) -> Callable[[str], str | None]:
    known = None
    if config_path is not None:
        known = {a.code for a in load_or_exit(config_path).model.agencies}
    try:
        mapping = read_mapping(map_path) if map_path is not None else None
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None
    return label_resolver(mapping, known)


def _kind_resolver(raw: str) -> str | None:
    kind = as_kind(raw)
    return kind.value if kind is not None else None


def _train(history: History, task: str, out_path: Path, as_json: bool, **extra: Any) -> None:
    train = _trainer()
    say = (lambda m: None) if as_json else (lambda m: click.echo(f"  {m}", err=True))
    try:
        model = train.train_text_model(history.texts, history.labels, task=task, say=say, **extra)
    except ValueError as exc:
        raise click.ClickException(f"tidak dapat melatih: {exc}") from None
    model.meta["skipped"] = history.summary()["skipped"]
    save_model(model, out_path)
    if as_json:
        click.echo(json.dumps({"model": str(out_path), **model.meta}, indent=2))
        return
    cv = model.meta["cv"]
    click.echo(
        f"model ditulis ke {out_path}: {len(model.labels)} label, {len(history.texts)} baris"
    )
    click.echo(f"validasi silang: top-1 {cv['top1']:.3f}, top-3 {cv['top3']:.3f}")
    threshold = model.threshold
    if threshold is None:
        click.echo("tidak ada ambang yang mencapai presisi 95% pada data latih (perlu data lebih)")
    else:
        point = next(p for p in cv["curve"] if abs(p["threshold"] - round(threshold, 4)) < 1e-9)
        click.echo(
            f"ambang yang disarankan {threshold:.3f}: presisi {point['precision']:.3f},"
            f" cakupan {point['coverage']:.3f}"
        )
    if "positive_threshold" in model.meta:
        click.echo(f"ambang whistleblowing (recall tinggi): {model.meta['positive_threshold']:.3f}")


def _evaluate(model: TextModel, history: History, as_json: bool) -> None:
    index = {label: i for i, label in enumerate(model.labels)}
    truth = np.array([index.get(label, -1) for label in history.labels], dtype=np.int64)
    probs = np.array([model.probabilities(t) for t in history.texts], dtype=np.float32)
    if not len(probs):
        raise click.ClickException("tidak ada baris uji yang dapat dipakai")
    result = figures(probs, truth, THRESHOLDS, extra=(model.threshold,))
    result["recommended_threshold"] = model.threshold
    result["unknown_to_model"] = int((truth < 0).sum())
    result["skipped"] = history.summary()["skipped"]
    result["model"] = {
        k: model.meta.get(k) for k in ("task", "trained_at", "rows", "sklearn_version")
    }
    if "positive_label" in model.meta:
        column = index[model.meta["positive_label"]]
        positive = truth == column
        flagged = probs[:, column] >= model.meta["positive_threshold"]
        result["positive"] = {
            "label": model.meta["positive_label"],
            "threshold": model.meta["positive_threshold"],
            "recall": float(flagged[positive].mean()) if positive.any() else None,
            "false_alarm_rate": float(flagged[~positive].mean()) if (~positive).any() else None,
        }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_evaluation(result)


def _print_evaluation(result: dict[str, Any]) -> None:
    click.echo(f"{result['rows']} baris uji ({result['unknown_to_model']} berlabel di luar model)")
    click.echo(f"top-1 {result['top1']:.3f}   top-3 {result['top3']:.3f}")
    recommended = result["recommended_threshold"]
    click.echo("ambang   cakupan   presisi")
    for point in result["curve"]:
        precision = "-" if point["precision"] is None else f"{point['precision']:.3f}"
        mark = (
            "  <- disarankan saat pelatihan"
            if recommended is not None and abs(point["threshold"] - round(recommended, 4)) < 1e-9
            else ""
        )
        click.echo(f"{point['threshold']:6.3f}   {point['coverage']:7.3f}   {precision:>7}{mark}")
    if recommended is None:
        click.echo("model ini tidak mencatat ambang yang disarankan")
    positive = result.get("positive")
    if positive:
        click.echo(
            f"{positive['label']} pada ambang {positive['threshold']:.3f}: recall"
            f" {_fmt(positive['recall'])}, alarm palsu {_fmt(positive['false_alarm_rate'])}"
        )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _load_for_evaluation(path: Path) -> TextModel:
    try:
        return load_model(path, check_version=True)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from None


# --- routing ------------------------------------------------------------------------------


@main.group("routing")
def routing_group() -> None:
    """Model rute dari riwayat disposisi pemda sendiri."""


@routing_group.command("train")
@HISTORY_OPTION
@click.option("--text-column", default="keluhan", show_default=True, help="Kolom teks aduan.")
@click.option("--label-column", default="instansi", show_default=True, help="Kolom instansi.")
@MAP_OPTION
@CHECK_CONFIG
@MODEL_OUT
@JSON_OPTION
def routing_train(
    history_path: Path,
    text_column: str,
    label_column: str,
    map_path: Path | None,
    config_path: Path | None,
    out_path: Path,
    as_json: bool,
) -> None:
    """Latih model rute (instansi) dari riwayat disposisi."""
    history = _read(
        history_path, text_column, label_column, _routing_resolver(map_path, config_path)
    )
    if not as_json:
        click.echo(_skipped_line(history))
    _train(history, "routing", out_path, as_json)


@routing_group.command("evaluate")
@MODEL_IN
@TEST_OPTION
@click.option("--text-column", default="keluhan", show_default=True)
@click.option("--label-column", default="instansi", show_default=True)
@MAP_OPTION
@JSON_OPTION
def routing_evaluate(
    model_path: Path,
    test_path: Path,
    text_column: str,
    label_column: str,
    map_path: Path | None,
    as_json: bool,
) -> None:
    """Ukur model rute pada data uji: top-1, top-3, cakupan dan presisi per ambang."""
    model = _load_for_evaluation(model_path)
    history = _read(test_path, text_column, label_column, _routing_resolver(map_path, None))
    _evaluate(model, history, as_json)


@routing_group.command("export-history")
@CONFIG_OPTION
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Berkas CSV keluaran (bawaan: layar).",
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Sejak tanggal.")
@click.option(
    "--include-unconfirmed",
    is_flag=True,
    help="Sertakan laporan yang belum dikonfirmasi instansinya di pusat.",
)
def routing_export_history(
    config_path: Path, out_path: Path | None, since: dt.datetime | None, include_unconfirmed: bool
) -> None:
    """Tulis riwayat (teks tanpa data pribadi, instansi akhir) dalam format routing train."""
    from store.training import history_rows  # noqa: PLC0415

    config = load_or_exit(config_path)
    start = since.replace(tzinfo=dt.UTC) if since is not None else None
    handle = out_path.open("w", newline="", encoding="utf-8") if out_path else sys.stdout
    count = 0
    try:
        writer = csv.writer(handle)
        writer.writerow(["keluhan", "instansi", "sumber", "tanggal"])
        with open_runtime(config) as runtime, runtime.sessions() as session:
            for row in history_rows(session, since=start, include_unconfirmed=include_unconfirmed):
                writer.writerow([row.text, row.agency, row.source, row.at.date().isoformat()])
                count += 1
    finally:
        if out_path:
            handle.close()
    click.echo(f"{count} baris riwayat ditulis" + (f" ke {out_path}" if out_path else ""), err=True)


# --- kinds --------------------------------------------------------------------------------


@main.group("kinds")
def kinds_group() -> None:
    """Model jenis laporan (pengaduan, aspirasi, permintaan informasi, whistleblowing)."""


@kinds_group.command("train")
@HISTORY_OPTION
@click.option("--text-column", default="keluhan", show_default=True)
@click.option("--label-column", default="kind", show_default=True)
@click.option(
    "--recall",
    default=0.97,
    show_default=True,
    type=click.FloatRange(0.5, 1.0),
    help="Bagian laporan whistleblowing (data latih) yang harus tertangkap oleh ambangnya.",
)
@MODEL_OUT
@JSON_OPTION
def kinds_train(
    history_path: Path,
    text_column: str,
    label_column: str,
    recall: float,
    out_path: Path,
    as_json: bool,
) -> None:
    """Latih model jenis laporan dari riwayat berlabel (kolom kind)."""
    history = _read(history_path, text_column, label_column, _kind_resolver)
    if not as_json:
        click.echo(_skipped_line(history))
    missing = set(KIND_NAMES) - set(history.labels)
    if Kind.WHISTLEBLOWING in missing and not as_json:
        click.echo("peringatan: tidak ada contoh whistleblowing; model tidak akan mengenalinya")
    _train(
        history,
        "kind",
        out_path,
        as_json,
        positive_label=Kind.WHISTLEBLOWING.value,
        positive_recall=recall,
    )


@kinds_group.command("evaluate")
@MODEL_IN
@TEST_OPTION
@click.option("--text-column", default="keluhan", show_default=True)
@click.option("--label-column", default="kind", show_default=True)
@JSON_OPTION
def kinds_evaluate(
    model_path: Path, test_path: Path, text_column: str, label_column: str, as_json: bool
) -> None:
    """Ukur model jenis laporan pada data uji, termasuk recall whistleblowing."""
    model = _load_for_evaluation(model_path)
    history = _read(test_path, text_column, label_column, _kind_resolver)
    _evaluate(model, history, as_json)
