"""python -m components.report compare A B: the slice report of model A vs B.

A and B each name one evaluated model:
  * an Evaluator output folder (PIPELINE_ROOT/Evaluator/evaluation/<id>);
    the run's other artifacts are found in the metadata.sqlite above it;
  * a run id, as `local_runner.py` printed it ('Run <id>: ...');
  * a relative index: -1 the latest run that evaluated a model, -2 the one
    before (runs whose Evaluator was cached count: they reuse an evaluation).

Run ids and indices are looked up in --metadata (default: the local runner's
outputs/pipeline_root/metadata.sqlite). Give --metadata twice when A and B
live in different stores.

Plain BCE against class-weighted BCE, on the same data:

    python local_runner.py --loss bce --output_root /tmp/study
    python local_runner.py --loss weighted_bce --output_root /tmp/study
    python -m components.report compare -2 -1 \\
        --metadata /tmp/study/pipeline_root/metadata.sqlite \\
        --names bce weighted_bce
"""

import argparse
import sys
from typing import List, Optional



def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(
      prog='python -m components.report', description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)
  cmp = commands.add_parser(
      'compare', help='report model A against model B',
      description='Writes report.html, report.md and report.json comparing '
                  'model A (the reference) with model B.')
  cmp.add_argument('a', metavar='A',
                   help='Evaluator output folder, run id or index (-2)')
  cmp.add_argument('b', metavar='B',
                   help='Evaluator output folder, run id or index (-1)')
  cmp.add_argument('--metadata', action='append', default=[],
                   metavar='PATH',
                   help='MLMD SQLite store; once for both, or twice (A, B)')
  cmp.add_argument('--pipeline_name',
                   help='pipeline whose runs A and B are (default: the only '
                        'one in the store)')
  cmp.add_argument('--names', nargs=2, default=['A', 'B'],
                   metavar=('NAME_A', 'NAME_B'),
                   help='column titles of the two models (default: A B)')
  cmp.add_argument('--output_dir',
                   help='where to write the report (default: '
                        "OUTPUT_ROOT/reports/compare-<A>-vs-<B> beside B's "
                        'pipeline root)')
  cmp.add_argument('--title', help='report title')
  return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
  args = parse_args(argv)
  from components.report import compare  # pylint: disable=g-import-not-at-top
  from components.report import render_markdown
  from components.report import tables
  try:
    result = compare.compare(args.a, args.b, metadata=args.metadata,
                             pipeline_name=args.pipeline_name,
                             names=args.names, output_dir=args.output_dir,
                             title=args.title)
  except (LookupError, FileNotFoundError, ValueError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  report = result.report
  lines = [report.title, '']
  lines += [f'{m.name}: {m.description or "-"}; evaluation {m.evaluation_uri}'
            for m in report.models] + ['']
  lines += tables.verdict_lines(report) + ['']
  lines += [render_markdown.table(tables.accuracy_table(report)), '']
  lines += tables.worst_cohort_lines(report) + ['']
  if report.note:
    lines += [report.note, '']
  lines += [f'Report, viewable in a browser: {result.files.html}',
            f'Summary: {result.files.markdown}',
            f'Numbers: {result.files.json}']
  print('\n'.join(lines))
  return 0


if __name__ == '__main__':
  sys.exit(main())
