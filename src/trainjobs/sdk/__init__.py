"""The trainjobs Python SDK, with the legacy ModelArts SDK's training surface.

A legacy script changes only its imports::

    from trainjobs.sdk.session import Session      # was: from modelarts.session import Session
    from trainjobs.sdk.estimator import Estimator  # was: from modelarts.estimator import Estimator
"""

from trainjobs.sdk.client import ApiClient
from trainjobs.sdk.discovery import Credentials, discover
from trainjobs.sdk.errors import CredentialsNotFound, ModelArtsError, ServiceUnreachable
from trainjobs.sdk.estimator import Estimator
from trainjobs.sdk.session import Session
from trainjobs.sdk.training_job import TrainingJob
from trainjobs.sdk.visualization import VisualizationJob

__all__ = [
    "ApiClient",
    "Credentials",
    "CredentialsNotFound",
    "Estimator",
    "ModelArtsError",
    "ServiceUnreachable",
    "Session",
    "TrainingJob",
    "VisualizationJob",
    "discover",
]
