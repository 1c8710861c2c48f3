"""The `digest` command: parse arguments, run a command, print problems and a summary."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from . import __version__
from .config import DEFAULT_CONFIG, Config, load_config
from .problems import BuildError, Problem, errors_in


def main(argv: list[str] | None = None, keep: list | None = None) -> int:
    """Run the digest command line; return the exit status.

    keep receives what a command made (a build's report, which holds the parsed archive),
    for a caller that exits without freeing it.
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    args.keep = [] if keep is None else keep
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except BuildError as exc:
        print_problems(exc.problems, _site_root(args))
        errors = len(errors_in(exc.problems))
        kept = "; the last good output was left as it was" if args.command in ("build", "serve") else ""
        print(f"failed: {errors} error{'s' if errors != 1 else ''}{kept}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the machine said no (permissions, a full disk) somewhere no stage expected it
        print(f"error: {exc}", file=sys.stderr)
        return 1


def run() -> NoReturn:
    """Run the command line, then exit without tearing the interpreter down.

    The `digest` and `python -m generator` entry point. A build's report holds the parsed
    archive, millions of objects: freeing them one by one at exit would add a tenth to a
    cold build. Every file a command opens is closed before main returns. The cycle
    collector stays off (serve, the one command that runs on, turns it back on): a build
    pauses it, and turned back on, it would first walk every object the build made, a
    tenth of a second at 3,000 digests, just before the process exits.
    """
    gc.disable()
    kept: list = []
    code = main(keep=kept)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    os._exit(code)


def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="digest", description="Build daily paper digests into a static site.")
    parser.add_argument("--version", action="version", version=f"paper-digest {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = commands.add_parser("build", help="build the site into the output dir")
    _site_options(build)
    build.add_argument("--output", "-o", type=Path, help="output dir (default: output_dir in site.toml)")
    build.add_argument("--base-url", help="override base_url (e.g. the URL GitHub Pages reports)")
    build.add_argument("--no-cache", action="store_true", help="ignore and do not update the parse cache")
    build.set_defaults(run=run_build)

    serve = commands.add_parser("serve", help="preview the site locally, rebuilding on every change")
    _site_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--open", action="store_true", help="open the site in a browser")
    serve.set_defaults(run=run_serve)

    init = commands.add_parser("init", help="create a new site in DIR")
    init.add_argument("directory", type=Path, metavar="DIR", help="where to create the site (absent or empty)")
    init.set_defaults(run=run_init)

    new = commands.add_parser("new", help="create a digest skeleton for a day (default: today)")
    new.add_argument("date", nargs="?", help="YYYY-MM-DD (default: today in the site timezone)")
    new.add_argument("--config", "-c", type=Path, default=Path(DEFAULT_CONFIG), help="site config (default: site.toml)")
    new.set_defaults(run=run_new)

    check = commands.add_parser("check", help="build to a temporary dir and report broken links and feed problems")
    _site_options(check)
    check.set_defaults(run=run_check)

    deploy = commands.add_parser("deploy", help="build and publish the site as a commit on a git branch")
    _site_options(deploy)
    deploy.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")
    deploy.add_argument("--branch", default="gh-pages", help="branch to commit the site on (default: gh-pages)")
    deploy.add_argument("--message", "-m", help="commit message (default: 'Deploy TITLE from COMMIT')")
    deploy.add_argument("--base-url", help="override base_url")
    deploy.add_argument("--force", action="store_true", help="replace the branch's history (force-push)")
    deploy.set_defaults(run=run_deploy)
    return parser


def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", type=Path, default=Path(DEFAULT_CONFIG), help="site config (default: site.toml)")
    parser.add_argument("--drafts", action="store_true", help="include digests marked draft: true")


def print_problems(problems: list[Problem], site_root: Path | None = None) -> None:
    """Print problems to stderr, errors last so they stay in view.

    Problems name files relative to the site's folder (site_root); where that is not the
    working directory (digest build --config site/site.toml), a file that exists is named
    from here instead, so that an editor or terminal can open it from the message.
    """
    for problem in sorted(problems, key=lambda p: p.level == "error"):
        if site_root is not None and not os.path.isabs(problem.path) and (site_root / problem.path).exists():
            problem = replace(problem, path=os.path.relpath(site_root / problem.path))
        print(problem, file=sys.stderr)


def _site_root(args: argparse.Namespace) -> Path | None:
    """Return the folder of the config the arguments name, if they name one."""
    config = getattr(args, "config", None)
    return Path(config).absolute().parent if config is not None else None


def _config(args: argparse.Namespace) -> Config:
    """Return the site config the arguments name, with --base-url applied."""
    config = load_config(args.config)
    if getattr(args, "base_url", None):
        config = config.with_base_url(args.base_url)
    return config


def run_build(args: argparse.Namespace) -> int:
    """Build the site; print warnings and the summary line."""
    from .fresh import scan_sources

    config = _config(args)
    scan = None if args.no_cache else scan_sources(config, args.output, args.drafts, signed=True)
    report = scan and scan.unchanged_report()
    if report is None:  # there is work: only now load the pipeline, most of a no-change build's time
        from .build import build

        report = build(config, output_dir=args.output, drafts=args.drafts, use_cache=not args.no_cache, scan=scan)
    args.keep.append(report)
    print_problems(report.warnings, config.root)
    print(report.summary())
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve the site with live reload until Ctrl-C."""
    from .serve import serve

    gc.enable()  # a long-running process: run() turned the collector off for one-shot commands
    return serve(_config(args), host=args.host, port=args.port, drafts=args.drafts, open_browser=args.open,
                 say=lambda line: print(line, file=sys.stderr))


def run_init(args: argparse.Namespace) -> int:
    """Create a new site in the given folder."""
    from .scaffold import init_site

    for line in init_site(args.directory):
        print(line)
    return 0


def run_new(args: argparse.Namespace) -> int:
    """Create a digest skeleton for a day."""
    from .scaffold import new_digest

    path = new_digest(load_config(args.config), args.date)
    print(f"created {path}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Build into a temporary folder and report broken links and feed problems."""
    from .check import check_site

    problems, summary = check_site(_config(args), drafts=args.drafts)
    print_problems(problems)
    print(summary)
    return 1 if errors_in(problems) else 0


def run_deploy(args: argparse.Namespace) -> int:
    """Build and publish the site as a commit on a git branch."""
    from .deploy import deploy

    result = deploy(_config(args), remote=args.remote, branch=args.branch, message=args.message,
                    force=args.force, drafts=args.drafts)
    print(result)
    return 0
