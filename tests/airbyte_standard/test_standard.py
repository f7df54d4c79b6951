"""airbyte-cdk's standard source tests (`SourceTestSuiteBase`), run against the component.

The connector root (`AC_CONNECTOR_ROOT`) holds `acceptance-test-config.yml` and the configs it
names under `secrets/`; tests/acserver/tests/conformance.rs writes it against the test server.
"""

import os
from pathlib import Path

from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from source_adapter import WasmSource


class TestSourceActivecampaign(SourceTestSuiteBase):
    connector = WasmSource

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return Path(os.environ["AC_CONNECTOR_ROOT"])
