#!/usr/bin/env python3
"""statsmodels' maximum-likelihood fit of the Nile local level model with exact diffuse initialisation, and its
standard errors from the observed information matrix (cov_type='oim', natural scale). Needs statsmodels (Debian 12:
python3-statsmodels 0.13.5). Writes nile_statsmodels_oim.json next to this script."""
import json
import os

import numpy as np
import statsmodels
import statsmodels.api as sm

HERE = os.path.dirname(os.path.abspath(__file__))
y = sm.datasets.nile.load_pandas().data["volume"].to_numpy(dtype=float)
model = sm.tsa.UnobservedComponents(y, "llevel", use_exact_diffuse=True)
start = model.fit(disp=False, method="nm", maxiter=2000)
result = model.fit(start.params, disp=False, method="bfgs", cov_type="oim", gtol=1e-10)
approx = model.fit(result.params, disp=False, method="bfgs", cov_type="approx", gtol=1e-10)
out = {
    "model": "UnobservedComponents(nile, 'llevel', use_exact_diffuse=True); params [sigma2.irregular, sigma2.level]",
    "params": [float(v) for v in result.params],
    "llf": float(result.llf),
    "bse_oim": [float(v) for v in result.bse],
    "bse_approx": [float(v) for v in approx.bse],
    "cov_params_oim": np.asarray(result.cov_params()).tolist(),
    "versions": {"statsmodels": statsmodels.__version__, "numpy": np.__version__},
}
with open(os.path.join(HERE, "nile_statsmodels_oim.json"), "w") as fh:
    json.dump(out, fh, indent=2)
print(json.dumps(out, indent=2))
