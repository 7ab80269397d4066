"""HTTP routes: one APIRouter per resource group, plus apply, reports and health."""
