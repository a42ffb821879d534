"""The write path, in flow order: extract -> conform -> match -> conflicts -> resolve -> plan
(the write), driven by `writer`; `batch` pipelines many windows, `ingest` and `transcripts`
feed it. Internal."""
