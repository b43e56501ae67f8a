"""Which techniques pay on a Navier–Stokes case: the defaults against one change at a time.

    python benchmarks/ns_techniques.py --case cavity_smooth [--variants default,soft,balance,…]
                                       [--record] [extra pinn solve options applied to every variant]

Variants (each is the case's defaults plus the listed options):

    default    the problem's defaults
    soft       Dirichlet data by boundary Terms instead of the exact output transform (constraints=soft)
    exact      the exact output transform instead of boundary Terms (constraints=exact)
    balance    gradient-norm loss balancing every 100 Adam steps (--balance-every 100)
    fourier    random Fourier features of scale 1 (--fourier-features --fourier-scale 1)
    no_fourier no Fourier features (--no-fourier-features)
    sobol      fresh scrambled Sobol' points every step instead of the default rule (--sampler sobol)
    rad        residual-based adaptive sampling (--sampler rad)
    modified   the modified MLP (--modified-mlp)
    float32    single precision (--dtype float32)
    float64    double precision (--dtype float64)
    adam_only  no L-BFGS phase (--lbfgs-steps 0)

The table gives each variant's errors, solve wall time and CPU time (see ns_accuracy.py).
"""

import argparse
import sys

from ns_common import CASES, solve
from recorder import record

VARIANTS = {
    "default": [],
    "soft": ["--param", "constraints=soft"],
    "exact": ["--param", "constraints=exact"],
    "balance": ["--balance-every", "100"],
    "fourier": ["--fourier-features", "--fourier-scale", "1"],
    "no_fourier": ["--no-fourier-features"],
    "sobol": ["--sampler", "sobol"],
    "rad": ["--sampler", "rad"],
    "modified": ["--modified-mlp"],
    "float32": ["--dtype", "float32"],
    "float64": ["--dtype", "float64"],
    "adam_only": ["--lbfgs-steps", "0"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", required=True, choices=list(CASES))
    parser.add_argument("--variants", default="default,no_fourier,sobol,balance,float64")
    parser.add_argument("--record", action="store_true", help="record the run (benchmarks/recorder.py)")
    args, extra = parser.parse_known_args()
    rows = [
        f"| {args.case} variant | u rel L2 | v rel L2 | p rel L2 | solve wall s | CPU s | load |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            parser.error(f"unknown variant '{variant}'; valid: {', '.join(VARIANTS)}")
        result = solve(args.case, VARIANTS[variant] + extra)
        errors = result["report"]["errors"]
        rows.append(
            f"| {variant} | {errors['u']['rel_l2']:.2e} | {errors['v']['rel_l2']:.2e} | {errors['p']['rel_l2']:.2e} | "
            f"{result['report']['wall_time_s']:.0f} | {result['cpu_s']:.0f} | {result['load']:.1f} |"
        )
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.record:
        command = "python benchmarks/ns_techniques.py " + " ".join(sys.argv[1:])
        record("ns_techniques", f"ns_techniques_{args.case}", command, table,
               title=f"Navier–Stokes techniques on {args.case} (benchmarks/ns_techniques.py)")  # fmt: skip


if __name__ == "__main__":
    main()
