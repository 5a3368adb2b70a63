"""A script written for the legacy ModelArts SDK (modelarts 1.1.x), in its documented style.

tests/sdk/test_legacy_script.py runs it against trainjobs with only the two
import lines changed. Arguments: a local folder holding src/ (the training
code) and data/, and an OBS bucket name to put them in.
"""

import json
import sys
import time

from modelarts.estimator import Estimator
from modelarts.session import Session

local_dir, bucket = sys.argv[1], sys.argv[2]
session = Session()

session.obs.upload_dir(src_local_dir=local_dir + "/src", dst_obs_dir="obs://" + bucket + "/")
session.obs.upload_dir(src_local_dir=local_dir + "/data", dst_obs_dir="obs://" + bucket + "/")

frameworks = Estimator.get_framework_list(modelarts_session=session)
estimator = Estimator(
    modelarts_session=session,
    framework_type=frameworks[0]["framework_type"],
    framework_version=frameworks[0]["framework_version"],
    code_dir="/" + bucket + "/src/",
    boot_file="/" + bucket + "/src/train.py",
    log_url="/" + bucket + "/log/",
    hyperparameters=[{"label": "lr", "value": "0.01"}, {"label": "sleep", "value": "0"}],
    output_path="/" + bucket + "/output/",
    train_instance_type=Estimator.get_train_instance_types(modelarts_session=session)[0],
    train_instance_count=1,
    job_description="legacy script",
)
job_instance = estimator.fit(inputs="/" + bucket + "/data/", wait=True, job_name=bucket + "-job")

job_info = job_instance.get_job_version_info()
first = job_info["versions"][0]

version_estimator = Estimator(
    modelarts_session=session,
    framework_type=frameworks[0]["framework_type"],
    framework_version=frameworks[0]["framework_version"],
    code_dir="/" + bucket + "/src/",
    boot_file="/" + bucket + "/src/train.py",
    log_url="/" + bucket + "/log/",
    hyperparameters=[{"label": "lr", "value": "0.1"}, {"label": "sleep", "value": "60"}],
    output_path="/" + bucket + "/output/",
    train_instance_type=Estimator.get_train_instance_types(modelarts_session=session)[0],
    train_instance_count=1,
)
job_version_instance = version_estimator.create_job_version(
    job_id=job_instance.job_id,
    pre_version_id=job_instance.version_id,
    inputs="/" + bucket + "/data/",
    wait=False,
    job_desc="second version, stopped early",
)

while job_version_instance.get_job_info()["status"] != 8:  # 8: running
    time.sleep(0.2)
stop_result = job_version_instance.stop_job_version()
while job_version_instance.get_job_info()["status"] == 9:  # 9: being killed
    time.sleep(0.2)

versions = job_version_instance.get_job_version_info()
downloaded = session.obs.download_file(
    src_obs_file="obs://" + bucket + "/output/result.txt", dst_local_dir=local_dir + "/downloaded"
)
print(
    json.dumps(
        {
            "job_id": job_instance.job_id,
            "first_version_id": job_instance.version_id,
            "first_status": first["status"],
            "first_parameter": first["parameter"],
            "second_version_id": job_version_instance.version_id,
            "stop": stop_result,
            "statuses": [v["status"] for v in versions["versions"]],
            "job_desc": versions["job_desc"],
            "log_files": job_instance.get_job_log_file_list()["log_file_list"],
            "downloaded": open(downloaded).read(),  # noqa: SIM115
        }
    )
)
