"""`sp4n-gateway user add|passwd|disable|enable|list`: console accounts from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.base import CONFIG_OPTION, load_or_exit, main, open_runtime

PASSWORD_OPTION = click.option(
    "--password",
    prompt="Kata sandi",
    hide_input=True,
    confirmation_prompt="Ulangi kata sandi",
    envvar="SP4N_NEW_PASSWORD",
    help="Kata sandi (ditanyakan bila tidak diberikan; atau variabel SP4N_NEW_PASSWORD).",
)
ACTOR = "cli"


@main.group()
def user() -> None:
    """Akun konsol admin (peran admin atau operator)."""


@user.command("add")
@CONFIG_OPTION
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["admin", "operator"]), default="operator", show_default=True
)
@click.option("--name", "display_name", default=None, help="Nama lengkap petugas.")
@PASSWORD_OPTION
def user_add(
    config_path: Path, username: str, role: str, display_name: str | None, password: str
) -> None:
    """Tambah akun baru."""
    from gateway.console.accounts import AccountError, add_user  # noqa: PLC0415
    from gateway.console.audit import audit  # noqa: PLC0415

    with open_runtime(load_or_exit(config_path)) as runtime:
        try:
            with runtime.sessions.begin() as session:
                account = add_user(session, username, password, role, display_name)
                audit(session, ACTOR, "user_add", account.username, role=role)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Pengguna {account.username} ({role}) ditambahkan.")


def _change(config_path: Path, username: str, action: str, password: str | None = None) -> None:
    from gateway.console.accounts import (  # noqa: PLC0415
        AccountError,
        find_user,
        set_active,
        set_password,
    )
    from gateway.console.audit import audit  # noqa: PLC0415

    with open_runtime(load_or_exit(config_path)) as runtime:
        try:
            with runtime.sessions.begin() as session:
                account = find_user(session, username)
                if account is None:
                    raise AccountError(f"tidak ada pengguna {username}")
                if password is not None:
                    set_password(account, password)
                else:
                    set_active(account, action == "user_enable")
                audit(session, ACTOR, action, account.username)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None


@user.command("passwd")
@CONFIG_OPTION
@click.argument("username")
@PASSWORD_OPTION
def user_passwd(config_path: Path, username: str, password: str) -> None:
    """Ganti kata sandi (sesi yang sedang masuk berakhir)."""
    _change(config_path, username, "user_passwd", password)
    click.echo(f"Kata sandi {username} diganti; sesi lama berakhir.")


@user.command("disable")
@CONFIG_OPTION
@click.argument("username")
def user_disable(config_path: Path, username: str) -> None:
    """Nonaktifkan akun (sesinya langsung berakhir)."""
    _change(config_path, username, "user_disable")
    click.echo(f"Pengguna {username} dinonaktifkan.")


@user.command("enable")
@CONFIG_OPTION
@click.argument("username")
def user_enable(config_path: Path, username: str) -> None:
    """Aktifkan kembali akun yang dinonaktifkan."""
    _change(config_path, username, "user_enable")
    click.echo(f"Pengguna {username} diaktifkan kembali.")


@user.command("list")
@CONFIG_OPTION
def user_list(config_path: Path) -> None:
    """Daftar akun, peran, status, dan waktu masuk terakhir."""
    from sqlalchemy import select  # noqa: PLC0415

    from gateway.localtime import format_local  # noqa: PLC0415
    from store.models import User  # noqa: PLC0415

    config = load_or_exit(config_path)
    zone = config.model.gateway.timezone
    with open_runtime(config) as runtime, runtime.reads() as session:
        rows = list(session.scalars(select(User).order_by(User.username)))
    for row in rows:
        state = "aktif" if row.active else "nonaktif"
        last = format_local(row.last_login_at, zone) or "belum pernah masuk"
        click.echo(f"{row.username:24} {row.role:9} {state:9} {last}")
    click.echo(f"{len(rows)} pengguna")
