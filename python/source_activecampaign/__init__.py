"""source-activecampaign: the ActiveCampaign connector's WebAssembly component, run in-process
on wasmtime's Python package. Executables: `source-activecampaign` (Airbyte protocol) and
`tap-activecampaign` (Singer); a dlt source in `source_activecampaign.dlt`."""

from ._runtime import COMPONENT, cache_dir

__all__ = ["COMPONENT", "cache_dir"]
