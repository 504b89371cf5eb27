"""Step outputs in the warehouse: what one step hands to the next, wherever each runs.

Room: Dagster's IO manager for the few values ops pass along (the province shards'
names of ``HARMONI_SPLIT=province``), kept in the run's pending area of the warehouse
(:meth:`harmoni_pipeline.warehouse.Warehouse.write_pending_blob`) — a folder or an object
store every worker reaches — instead of Dagster's default, a folder under ``DAGSTER_HOME``
on the machine that ran the step. Assets write their tables to the warehouse themselves
and return no value, so nothing else goes through here. The values are small and ours
(pickled); the pending area is pruned with the run's other leftovers.
"""

from __future__ import annotations

import pickle

import dagster as dg

PREFIX = "output"


def blob_name(identifier: list[str]) -> str:
    """``[run_id, step, output, mapping_key?]`` → the blob's name in the run's area."""
    return "~".join([PREFIX, *identifier[1:]]) + ".pickle"


class WarehouseIOManager(dg.IOManager):
    def __init__(self, harmoni):
        self._harmoni = harmoni

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        ident = context.get_identifier()
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._harmoni.warehouse().write_pending_blob(ident[0], blob_name(ident), payload)

    def load_input(self, context: dg.InputContext):
        ident = context.upstream_output.get_identifier()
        payload = self._harmoni.warehouse().read_pending_blob(ident[0], blob_name(ident))
        if payload is None:
            raise FileNotFoundError(f"the output {'/'.join(ident[1:])} of run {ident[0]} is not in the warehouse")
        return pickle.loads(payload)


@dg.io_manager(required_resource_keys={"harmoni"},
               description="Step outputs in the warehouse's run area (harmoni_pipeline.step_io).")
def warehouse_io_manager(init_context: dg.InitResourceContext) -> WarehouseIOManager:
    return WarehouseIOManager(init_context.resources.harmoni)
