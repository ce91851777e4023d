"""One module per subcommand. Each exposes `HELP: str`, `add_arguments(parser)` and
`run(args) -> int` (the process exit code); `thalex_trio.cli` imports them lazily so that
`--help` stays fast and a command's heavy imports (numba, psycopg) load only when it runs."""
