"""models, delete, ensemble, promote, restore: the model store from the terminal."""

from __future__ import annotations

import json

from mnist_core.models import store


def cmd_models(args) -> int:
    cards = store.list_models()
    if args.report:
        _write_comparison(cards, args.report)
    if args.json:
        print(json.dumps([{k: c.get(k) for k in ("name", "kind", "test_accuracy", "params", "train_seconds",
                                                  "created", "error")} for c in cards]))
        return 0
    if not cards:
        print("no saved models (train one with: python -m mnist_core train --model softmax)")
    for c in cards:
        if "error" in c:
            print(f"{c['name']:<24} unreadable: {c['error']}")
        else:
            seconds = c.get("train_seconds")  # None for an imported model: not trained here
            trained = f"{seconds:>8.1f}s" if isinstance(seconds, (int, float)) else f"{'-':>9}"
            print(f"{c['name']:<24} {c.get('kind', '?'):<14} acc {c.get('test_accuracy', 0):.4f}  "
                  f"{c.get('params', 0):>9,} params  {trained}  {c.get('created', '')}")
    return 0


def _write_comparison(cards: list[dict], path: str) -> None:
    import sys

    from mnist_core.analysis import report
    from mnist_core.cli.common import UserError

    try:
        written = report.write(report.comparison_html(cards), path)
    except (ValueError, OSError) as exc:
        raise UserError(f"could not write the report: {exc}") from None
    print(f"report written to {written}", file=sys.stderr)


def cmd_delete(args) -> int:
    store.delete(args.name)
    print(f"deleted model '{args.name}'")
    return 0


def cmd_ensemble(args) -> int:
    from mnist_core.models.ensembles import create

    card = create(args.name, args.members, replace=args.replace)
    if args.json:
        print(json.dumps({k: card[k] for k in ("name", "members", "test_accuracy", "test_loss", "test_ci95", "params")}))
    else:
        lo, hi = card["test_ci95"]
        print(f"saved ensemble '{card['name']}' of {', '.join(card['members'])}: test accuracy "
              f"{card['test_accuracy']:.4f} (95% CI {lo:.4f}-{hi:.4f})")
    return 0


def cmd_promote(args) -> int:
    from mnist_core.models import selection

    try:
        result = selection.promote(args.candidates, args.to, force=args.force)
    except selection.WorseThanCurrent as exc:
        if not args.json:
            print(comparison_table(exc.comparison))
        raise
    comparison = result["comparison"]
    card = result["card"]
    if args.json:
        print(json.dumps({"chosen": result["chosen"], "target": args.to, "candidates": result["candidates"],
                          "test_accuracy": card.get("test_accuracy"), "previous": result["previous"],
                          "comparison": comparison.to_json(), "forced": comparison.worse}))
        return 0
    print(f"rule: {result['rule']}")
    for r in result["candidates"]:
        mark = "->" if r["name"] == result["chosen"] else "  "
        scores = f"val_accuracy {r['val_accuracy']:.4f}  val_loss {r['val_loss']:.5f}" if "val_accuracy" in r else ""
        print(f"{mark} {r['name']:<24} {scores}".rstrip())
    print(comparison_table(comparison))
    print(f"copied '{result['chosen']}' to '{args.to}'; its test accuracy: {card.get('test_accuracy', float('nan')):.4f}"
          + (" (promoted with --force although it reads worse)" if comparison.worse else ""))
    if result["previous"]:
        print(f"the model it replaced is kept as '{result['previous']}': bring it back with "
              f"`python -m mnist_core restore{'' if args.to == 'default' else ' ' + args.to}`")
    return 0


def comparison_table(comparison) -> str:
    """The candidate beside the model it would replace: validation and test accuracy, and the difference."""
    rows = comparison.table()
    width = max(len(r["model"]) for r in rows)
    lines = [f"{'':<{width}}  {'validation':>14}  {'test':>14}"]
    lines += [f"{r['model']:<{width}}  {r['validation']:>14}  {r['test']:>14}" for r in rows]
    return "\n".join(lines + [comparison.describe()])


def cmd_restore(args) -> int:
    from mnist_core.models import selection

    result = selection.restore(args.name)
    card = result["card"]
    if args.json:
        print(json.dumps({k: result[k] for k in ("target", "restored_from", "replaced", "still_saved")}
                         | {"test_accuracy": card.get("test_accuracy")}))
        return 0
    print(f"restored '{result['target']}' from '{result['restored_from']}': test accuracy "
          f"{card.get('test_accuracy', float('nan')):.4f}")
    if result["replaced"]:
        print(f"the model it replaced was promoted from '{result['replaced']}', which is "
              + ("still saved under that name" if result["still_saved"] else "no longer in the store"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("models", help="list saved models")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML comparison (table, curves)")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("delete", help="delete a saved model")
    p.add_argument("name")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("ensemble", help="save an ensemble that averages saved models' probabilities")
    p.add_argument("name")
    p.add_argument("members", nargs="+", help="two or more saved model names")
    p.add_argument("--replace", action="store_true", help="replace a saved model of that name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ensemble)

    p = sub.add_parser("promote", help="copy the candidate with the best validation accuracy to another name, "
                       "after comparing it with the model there (kept as NAME-previous)")
    p.add_argument("candidates", nargs="+", help="saved model names (trained with a validation split)")
    p.add_argument("--to", default="default", help="destination name (default: default)")
    p.add_argument("--force", action="store_true",
                   help="promote even a candidate that reads worse than the model it replaces (by validation "
                        "accuracy, or test accuracy when either has no validation split)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("restore", help="put back the model the last promote replaced (NAME-previous -> NAME)")
    p.add_argument("name", nargs="?", default="default", help="the promoted name (default: default)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_restore)
