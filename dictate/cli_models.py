"""`dictate models list|prepare|import|verify`: the model store from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dictate.asr.model import VARIANTS
from dictate.modelstore import prepare, store
from dictate.modelstore.errors import ModelError
from dictate.modelstore.store import ModelStatus

EXIT_ERROR = 2
MEGABYTE = 1_000_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `models` and its subcommands."""
    parser = subparsers.add_parser("models", help="list, prepare, import or verify Whisper models")
    actions = parser.add_subparsers(dest="models_command", required=True)
    actions.add_parser("list", help="known models: installed weights, prepared variants, sizes")
    prepare = actions.add_parser("prepare", help="convert a model's weights to ONNX (once)")
    prepare.add_argument("name", help="model name, e.g. tiny.en")
    prepare.add_argument("--force", action="store_true", help="redo the conversion even if prepared")
    prepare.add_argument("--variants", nargs="+", choices=VARIANTS, metavar="VARIANT",
                         help=f"variants to make ({', '.join(VARIANTS)}); default int8 fp32 (+fp16 with CUDA)")
    imported = actions.add_parser("import", help="add a CTranslate2 Whisper folder (faster-whisper format)")
    imported.add_argument("path", type=Path, help="folder with model.bin, config.json, tokenizer.json")
    imported.add_argument("--name", help="model name (default: the folder's name)")
    verify = actions.add_parser("verify", help="check every prepared file against its sha256")
    verify.add_argument("name", help="model name")


def run(args: argparse.Namespace) -> int:
    """Run one `models` subcommand; a ModelError is one line on stderr and exit status 2."""
    try:
        if args.models_command == "list":
            _print_list(store.list_models())
        elif args.models_command == "prepare":
            folder = prepare.ensure_prepared(args.name, prepare.terminal_progress(), force=args.force,
                                             variants=args.variants)
            print(folder)
        elif args.models_command == "import":
            print(prepare.import_model(args.path, args.name, prepare.terminal_progress()))
        elif args.models_command == "verify":
            print(f"{prepare.verify_prepared(args.name)}: every file matches its sha256")
    except ModelError as error:
        print(f"dictate: {error}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def _print_list(rows: list[ModelStatus]) -> None:
    print(f"{'name':<16} {'weights':<14} {'prepared':<16} {'size':>8}  description")
    for row in rows:
        entry = row.entry
        weights = ("installed" if row.installed else "missing") + (" (import)" if entry.imported else "")
        prepared = ",".join(row.prepared_variants) or "no"
        size = f"{row.prepared_bytes / MEGABYTE:.0f} MB" if row.prepared_bytes else \
            f"({entry.size / MEGABYTE:.0f} MB)"
        hint = "" if row.installed else f"  [{entry.install}]"
        print(f"{entry.name:<16} {weights:<14} {prepared:<16} {size:>8}  {entry.description}{hint}")
