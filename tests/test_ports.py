"""Ports for test servers: never the kernel's ephemeral ones, never another process's."""

from __future__ import annotations

import socket

import pytest

from tests import ports

needs_slice = pytest.mark.skipif(
    not ports._PORTS._slice,
    reason="no ports below the kernel's ephemeral range here (it starts below "
    f"{ports.LOWEST + ports.MIN_SLICE}): free_port() takes the kernel's",
)


@needs_slice
def test_ports_are_below_the_ephemeral_range_and_never_handed_out_twice() -> None:
    handed = [ports.free_port() for _ in range(50)]

    assert len(set(handed)) == len(handed)
    assert all(ports.LOWEST <= port < ports._ephemeral_start() for port in handed)


def test_each_test_process_draws_from_a_slice_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slices = []
    for index in range(3):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        slices.append(set(ports._own_slice()))

    assert all(slices) or not ports._PORTS._slice
    assert not slices[0] & slices[1] and not slices[1] & slices[2] and not slices[0] & slices[2]


def test_a_worker_that_replaces_a_crashed_one_takes_no_other_worker_s_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")

    assert not ports._own_slice()


@needs_slice
def test_a_port_something_listens_on_is_skipped() -> None:
    taken = ports._Ports()
    port = taken._slice[taken._next]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()

        assert taken.take() != port
