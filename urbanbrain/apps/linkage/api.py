"""``/api/v1/linkage``: emergency plans (预案) as data, incidents that give every department its task at
once, the departments' steps on their tasks, the shared timeline, and a CAP 1.2 export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.responses import Response

from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.api.paging import page_query
from urbanbrain.api.params import Id, Ref
from urbanbrain.apps.linkage import actions, cap, lifecycle, plans, queries
from urbanbrain.apps.linkage import schemas as s
from urbanbrain.apps.linkage.models import Incident, Task
from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event
from urbanbrain.core.context import Platform
from urbanbrain.core.live import feed
from urbanbrain.core.loops import Sweep
from urbanbrain.core.paging import Page, PageRequest, paged

router = APIRouter(tags=["linkage"])
Reader = Annotated[Principal, require("linkage.read")]
Manager = Annotated[Principal, require(lifecycle.MANAGE)]
Worker = Annotated[Principal, require(lifecycle.WORK)]
Paging = Annotated[PageRequest, Depends(page_query(50))]
PlanCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """Incidents and tasks on the centre's live feed; a worker for the acknowledgement sweep when background
    work is on."""
    # Only for the centre (manage): the feed checks a permission, not which incidents a department works.
    live = feed(platform)
    live.show(
        "linkage.incident.*", name="incident", permission=lifecycle.MANAGE, render=_item, id_field="code"
    )
    live.show("linkage.task.*", name="task", permission=lifecycle.MANAGE, render=_item, id_field="task_id")
    if platform.settings.worker_seconds > 0:
        return [Sweep("linkage-ack", platform, actions.acknowledge_sweep, platform.settings.worker_seconds)]
    return []


def _item(event: Event) -> dict[str, Any]:
    """A linkage event as the screens show it: ``event`` says what happened (started, escalated, stood_down,
    attached; assigned, acknowledged, reported, completed, overdue)."""
    return {"event": event.type.rsplit(".", 1)[1], **event.payload}


def _detail(session: Any, platform: Platform, incident: Incident) -> dict[str, Any]:
    return queries.incident_detail(session, incident, platform.clock.now())


def _task(session: Any, platform: Platform, task: Task) -> dict[str, Any]:
    return queries.tasks_public(session, [task], platform.clock.now())[0]


@router.get("/states", response_model=dict[str, workflow.WorkflowPublic])
def states(principal: Reader) -> dict[str, Any]:
    """The incident's and the task's workflows as data."""
    return {
        "incident": workflow.describe(lifecycle.INCIDENT_STATES, lifecycle.INCIDENT_TRANSITIONS),
        "task": workflow.describe(lifecycle.TASK_STATES, lifecycle.TASK_TRANSITIONS),
    }


@router.get("/plans", response_model=list[s.PlanPublic])
def list_plans(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    """Every plan: each task's department, text, acknowledgement minutes and the lowest level it belongs to;
    ``levels`` lists the tasks of the plan at each level."""
    return [plans.public(code, plan, row) for code, (plan, row) in plans.all_plans(session).items()]


@router.get("/plans/{code}", response_model=s.PlanPublic)
def get_plan(code: PlanCode, session: SessionDep, principal: Reader) -> dict[str, Any]:
    plan, row = plans.get(session, code)
    return plans.public(code, plan, row)


@router.put("/plans/{code}", response_model=s.PlanPublic)
def put_plan(
    code: PlanCode,
    body: s.PlanPut,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("linkage.plans.write")],
) -> dict[str, Any]:
    """Create or replace the plan for an incident type. Departments must exist (``@street``: the street
    office of the incident's area). Send the ``version`` you read to replace an edited plan."""
    plan, row = actions.do_put_plan(session, platform, principal, code, body)
    return plans.public(code, plan, row)


@router.post("/incidents", status_code=201, response_model=s.IncidentDetail)
def start_incident(
    body: s.IncidentCreate, session: SessionDep, platform: PlatformDep, principal: Manager
) -> dict[str, Any]:
    """Start the plan of ``incident_type`` at ``level``: every department in it gets its task at the same
    instant and a note in its inbox. One open incident per type and zone."""
    return _detail(session, platform, actions.do_start_incident(session, platform, principal, body))


@router.get("/incidents", response_model=Page[s.IncidentPublic])
def list_incidents(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    state: Literal["open", "closed", "active", "stood_down"] | None = None,
    incident_type: Annotated[str | None, Query(alias="type", max_length=40)] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Incidents you work (the centre: all), newest first."""
    stmt = queries.incidents_stmt(principal, state=state, incident_type=incident_type, zone=zone)
    p = paged(session, stmt, page, Incident.id.desc())
    return {"items": queries.incidents_public(session, list(p.rows), platform.clock.now()), **p.counts()}


@router.get("/incidents/{ref}", response_model=s.IncidentDetail)
def get_incident(ref: Ref, session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    """One incident with its tasks, attachments and the shared timeline, in order."""
    return _detail(session, platform, queries.get_incident(session, principal, ref))


@router.post("/incidents/{ref}/escalate", response_model=s.IncidentDetail)
def escalate(
    ref: Ref, body: s.LevelChange, session: SessionDep, platform: PlatformDep, principal: Manager
) -> dict[str, Any]:
    """Raise the response to a higher level: the higher levels' tasks not yet given go out at once."""
    incident = queries.get_incident(session, principal, ref)
    actions.do_escalate_incident(session, platform, principal, incident, body.level, body.note, body.version)
    return _detail(session, platform, incident)


@router.post("/incidents/{ref}/stand_down", response_model=s.IncidentDetail)
def stand_down(
    ref: Ref, body: s.StandDownCreate, session: SessionDep, platform: PlatformDep, principal: Manager
) -> dict[str, Any]:
    """End the response with a final note: every open task closes."""
    incident = queries.get_incident(session, principal, ref)
    actions.do_stand_down_incident(session, platform, principal, incident, body.note, body.version)
    return _detail(session, platform, incident)


@router.post("/incidents/{ref}/attachments", status_code=201, response_model=s.IncidentDetail)
def attach(
    ref: Ref, body: s.AttachmentCreate, session: SessionDep, platform: PlatformDep, principal: Manager
) -> dict[str, Any]:
    """Attach a JSON result (a crowd what-if: ``{"kind": "what_if", "title", "data"}``)."""
    incident = queries.get_incident(session, principal, ref)
    actions.do_attach_result(session, platform, principal, incident, body)
    return _detail(session, platform, incident)


@router.get(
    "/incidents/{ref}/cap.xml",
    response_class=Response,
    responses={
        200: {
            "content": {"application/cap+xml": {"schema": {"type": "string"}}},
            "description": "A CAP 1.2 alert (OASIS urn:oasis:names:tc:emergency:cap:1.2).",
        }
    },
)
def cap_alert(ref: Ref, session: SessionDep, platform: PlatformDep, principal: Reader) -> Response:
    """The incident as a Common Alerting Protocol 1.2 ``<alert>``: ``Alert`` at the start, ``Update``
    after an escalation, ``Cancel`` after the stand-down; info in zh-CN and en-US."""
    incident = queries.get_incident(session, principal, ref)
    plan, _ = plans.get(session, incident.incident_type)
    body = cap.alert(incident, plan, platform.settings.utc_offset_hours)
    return Response(content=body, media_type="application/cap+xml")


@router.get("/tasks", response_model=Page[s.TaskPublic])
def list_tasks(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    department: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["open", "assigned", "acknowledged", "done", "stood_down"] | None = None,
    incident: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    overdue: bool | None = None,
) -> dict[str, Any]:
    """Tasks of your department (the centre: any), most urgent deadline first."""
    now = platform.clock.now()
    stmt = queries.tasks_stmt(
        principal, now, department=department, state=state, incident_id=incident, overdue=overdue
    )
    p = paged(session, stmt, page, (Task.ack_deadline, Task.id))
    return {"items": queries.tasks_public(session, list(p.rows), now), **p.counts()}


@router.get("/tasks/{task_id}", response_model=s.TaskPublic)
def get_task(task_id: Id, session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    return _task(session, platform, queries.get_task(session, principal, task_id))


def _step(name: str, session: Any, platform: Platform, principal: Principal, task_id: int, body: Any) -> Any:
    task = queries.get_task(session, principal, task_id)
    actions.apply_task_transition(
        session, platform, principal, task, name, note=body.note, version=body.version
    )
    return _task(session, platform, task)


@router.post("/tasks/{task_id}/acknowledge", response_model=s.TaskPublic)
def acknowledge(
    task_id: Id, body: s.TaskStep, session: SessionDep, platform: PlatformDep, principal: Worker
) -> dict[str, Any]:
    """Acknowledge your department's task (签收), before its deadline if you can."""
    return _step("acknowledge", session, platform, principal, task_id, body)  # type: ignore[no-any-return]


@router.post("/tasks/{task_id}/notes", response_model=s.TaskPublic)
def report(
    task_id: Id, body: s.NoteCreate, session: SessionDep, platform: PlatformDep, principal: Worker
) -> dict[str, Any]:
    """Report progress on an acknowledged task; the note goes on the incident's timeline."""
    return _step("report", session, platform, principal, task_id, body)  # type: ignore[no-any-return]


@router.post("/tasks/{task_id}/done", response_model=s.TaskPublic)
def complete(
    task_id: Id, body: s.TaskStep, session: SessionDep, platform: PlatformDep, principal: Worker
) -> dict[str, Any]:
    """Mark an acknowledged task done."""
    return _step("complete", session, platform, principal, task_id, body)  # type: ignore[no-any-return]
