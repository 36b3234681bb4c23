"""Imports every model so that SQLAlchemy's metadata, Alembic and Flask-Admin see them all."""

from loyalty import models as loyalty_models  # noqa: F401
from loyalty.merchant_api import models as merchant_api_models  # noqa: F401
from loyalty.webhooks import models as webhook_models  # noqa: F401
from messaging import models as messaging_models  # noqa: F401
from platform_core.audit.models import AuditLog  # noqa: F401
from platform_core.customers.models import ConsentRecord, Customer  # noqa: F401
from platform_core.staff.models import StaffUser  # noqa: F401
from platform_core.task_runs.models import TaskRun  # noqa: F401
from platform_core.tenancy.models import Merchant, Store, StoreDomain  # noqa: F401
