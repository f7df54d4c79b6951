"""singer-check-tap (singer-tools 0.4.1) as shipped, with its one race fixed.

`run_and_summarize` starts a `StdoutReader` thread on the tap's stdout, waits for the tap to exit
and returns `summarizer.summary` without joining the thread (its `finish_reading_logs`, which
joins, is never called). When the tap exits before the thread has parsed its last lines, the
summary is still None and the checker crashes with "'NoneType' object has no attribute
'num_messages'": a verdict on the machine's load, not on the tap. Here the summary is read only
after the thread has finished; everything else is singer-check-tap's own `main()`, with the same
arguments (`--tap`, `--config`, `--debug`), the same validation and the same exit codes.
"""

import sys

from singertools import check_tap


class JoinedStdoutReader(check_tap.StdoutReader):
    """The checker's reader; its summary is read once the reading thread has ended."""

    @property
    def summary(self):
        if self.is_alive():
            self.join()
        return self._summary

    @summary.setter
    def summary(self, value):
        self._summary = value


check_tap.StdoutReader = JoinedStdoutReader

if __name__ == "__main__":
    sys.exit(check_tap.main())
