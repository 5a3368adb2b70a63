"""From nothing to two compared versions of a real model, using only the trainjobs SDK.

The same path as walkthrough_cli.sh, written the way a legacy ModelArts SDK script is:
``Session`` → ``session.obs`` uploads → ``Estimator.fit`` → ``create_job_version`` →
compare. Porting a legacy script means changing its imports to the two below.

Start the service first (``trainjobs serve``, from the same folder); ``Session()``
then finds it and its token by itself. Elsewhere, set TRAINJOBS_DATA_DIR to its
data dir, or TRAINJOBS_ENDPOINT, TRAINJOBS_TOKEN and TRAINJOBS_PROJECT_ID.

Usage: python examples/walkthrough_sdk.py [BUCKET]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from trainjobs.sdk.estimator import Estimator
from trainjobs.sdk.session import Session

HERE = Path(__file__).resolve().parent


def accuracy(version: dict[str, object]) -> float | None:
    values = json.loads(str(version["model_metric_list"]))["total_metric"]["total_metric_values"]
    return values.get("accuracy")


def main(bucket: str) -> None:
    session = Session()
    job_name = f"digits-sdk-{time.strftime('%Y%m%d-%H%M%S')}"
    work = Path(tempfile.mkdtemp())

    print("== 1. What versions can run on, and with")
    print(Estimator.get_train_instance_types(session))
    frameworks = Estimator.get_framework_list(session)
    print(frameworks)
    # scikit-learn's engine when the service offers it, else its plain Python one
    framework = next(
        (f for f in frameworks if f["framework_type"] == "Scikit-learn"), frameworks[0]
    )

    print("== 2. Code and data into the object store")
    data = work / "data"
    data.mkdir()
    digits = load_digits()
    table = np.column_stack([digits.data, digits.target])
    np.savetxt(data / "digits.csv", table, delimiter=",", fmt="%g")
    code = work / "code"
    code.mkdir()
    (code / "train.py").write_text((HERE / "digits" / "train.py").read_text())
    session.obs.upload_dir(code, f"obs://{bucket}/")  # lands in /bucket/code/
    session.obs.upload_dir(data, f"obs://{bucket}/")  # lands in /bucket/data/

    print("== 3. The first version: C=1.0 (waits, showing its status)")
    estimator = Estimator(
        modelarts_session=session,
        framework_type=framework["framework_type"],
        framework_version=framework["framework_version"],
        code_dir=f"/{bucket}/code/",
        boot_file=f"/{bucket}/code/train.py",
        hyperparameters=[{"label": "C", "value": "1.0"}, {"label": "max_iter", "value": "300"}],
        output_path=f"/{bucket}/output/{job_name}/C-1.0/",
        train_instance_type=Estimator.get_train_instance_types(session)[0],
        train_instance_count=1,
        job_description="digits classifier, C sweep",
    )
    first = estimator.fit(inputs=f"/{bucket}/data/", wait=True, job_name=job_name)

    print("== 4. A second version with stronger regularisation: C=0.01")
    # Only what changes: the rest (code, data, engine, spec) comes from the first version.
    stronger = Estimator(
        modelarts_session=session,
        hyperparameters=[{"label": "C", "value": "0.01"}, {"label": "max_iter", "value": "300"}],
        output_path=f"/{bucket}/output/{job_name}/C-0.01/",
    )
    second = stronger.create_job_version(
        job_id=first.job_id, pre_version_id=first.version_id, wait=True
    )
    log_file = second.get_job_log_file_list()["log_file_list"][0]
    print(second.get_job_log(log_file, start_byte=-1, offset=3)["content"])

    print("== 5. Compare the two versions")
    second.get_job_version_object_list(is_show=True)
    versions = second.get_job_version_info()["versions"]
    for version in versions:
        params = {p["label"]: p["value"] for p in version["parameter"]}
        print(f"{version['version_name']}  C={params['C']:<5}  accuracy={accuracy(version)}")
    best = max(versions, key=lambda v: accuracy(v) or 0.0)

    print("== 6. Take the better model home")
    model = session.obs.download_file(f"{best['train_url']}model.pkl", work / "best")
    print(f"best: {best['version_name']}, model saved to {model}")
    print(f"when done: Estimator.delete_job_by_id(session, {first.job_id})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "digits-demo")
