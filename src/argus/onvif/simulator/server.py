"""The ONVIF simulator: the device, media and PTZ services of many cameras over HTTP.

Every camera id has its own paths on one server, `http://127.0.0.1:PORT/onvif/{id}/…`:
`device_service`, `media` and (a PTZ camera) `ptz`; `device_url(id)` is what a client is given.
`GET …/snapshot?profile=main` is the JPEG that GetSnapshotUri names (see `snapshot`).
A request is parsed as SOAP 1.2, its WS-Security UsernameToken checked against the camera's
credentials (except for the operations ONVIF serves before authentication), and answered from
the captured responses with this camera's state (`captures`). Whatever is wrong with a request
(not XML, not SOAP 1.2, an unknown operation, a bad argument, a wrong password, a bug here) is
answered with a SOAP fault for that request alone: nothing else changes (invariant 7).

Built on aiohttp.web: it runs in the event loop of the RTSP simulator, so both share the PTZ
state (`PtzRegistry`) without locks or a second process; `AppRunner`/`TCPSite` start and stop
in that loop on an ephemeral port for tests; and aiohttp is already a pinned dependency (it is
onvif-zeep-async's transport). The repository's HTTP stack, FastAPI on uvicorn, runs as a
server that owns its loop and adds JSON validation a raw SOAP endpoint has no use for.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from argus.media.simulator.ptz_view import DEFAULT_SECTORS, sector_heading
from argus.onvif.captures import Templates, shared_templates
from argus.onvif.ptz_state import PtzRegistry
from argus.onvif.simulator import device_service, media_service, ptz_service
from argus.onvif.simulator.camera import (
    PROFILE_KINDS,
    CameraCall,
    FixedMedia,
    Handler,
    MediaSource,
    ServiceUrls,
    SimulatedDevice,
    default_device,
)
from argus.onvif.simulator.snapshot import Snapshots, basic_credentials_match
from argus.onvif.soap import (
    CONTENT_TYPE,
    MAX_REQUEST_BYTES,
    NS,
    SoapFault,
    parse_request,
    render_fault,
    to_bytes,
)
from argus.onvif.wssecurity import NonceCache, check_token, read_token

log = logging.getLogger(__name__)

DEFAULT_PORT = 8580
_PATHS: dict[str, str] = {"device_service": "device", "media": "media", "ptz": "ptz"}
_SERVICES: dict[str, tuple[str, dict[str, Handler]]] = {
    "device": (NS["tds"], device_service.OPERATIONS),
    "media": (NS["trt"], media_service.OPERATIONS),
    "ptz": (NS["tptz"], ptz_service.OPERATIONS),
}


@dataclass
class OnvifStats:
    """Requests answered, and faults by their innermost subcode (or env code)."""

    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)


class OnvifSimulator:
    """Simulated ONVIF cameras on one HTTP server (`async with OnvifSimulator(port=0) as sim`)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        ptz: PtzRegistry | None = None,
        media: MediaSource | None = None,
        devices: Callable[[int], SimulatedDevice] = default_device,
        camera_ids: Container[int] | None = None,
        templates: Templates | None = None,
        data_dir: Path | None = None,
        max_clock_skew_s: float = 300.0,
        ptz_sectors: int | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self.ptz = ptz if ptz is not None else PtzRegistry()
        self.media: MediaSource = media if media is not None else FixedMedia()
        self.devices = devices
        self.camera_ids = camera_ids
        self.templates = templates if templates is not None else shared_templates(data_dir)
        self.max_clock_skew_s = max_clock_skew_s
        self.stats = OnvifStats()
        self._nonces = NonceCache(max_clock_skew_s)
        self._runner: web.AppRunner | None = None
        self._snapshots = Snapshots()
        self.ptz_sectors = ptz_sectors if ptz_sectors is not None else _media_sectors(self.media)

    # lifecycle -------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post(r"/onvif/{camera_id:\d{1,10}}/{service}", self._post)
        app.router.add_get(r"/onvif/{camera_id:\d{1,10}}/snapshot", self._snapshot)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        log.info("ONVIF simulator on %s", self.device_url(0).replace("/0/", "/{id}/"))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OnvifSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # addresses -------------------------------------------------------------------------------

    def urls(self, camera_id: int) -> ServiceUrls:
        base = f"http://{self._host}:{self._port}/onvif/{camera_id}"
        return ServiceUrls(
            device=f"{base}/device_service",
            media=f"{base}/media",
            ptz=f"{base}/ptz",
            snapshot=f"{base}/snapshot",
        )

    def device_url(self, camera_id: int) -> str:
        """The device service URL of a camera: what an ONVIF client starts from."""
        return self.urls(camera_id).device

    def known(self, camera_id: int) -> bool:
        if not 0 <= camera_id <= 0xFFFFFFFF:
            return False
        return self.camera_ids is None or camera_id in self.camera_ids

    # requests --------------------------------------------------------------------------------

    async def _post(self, request: web.Request) -> web.Response:
        camera_id = int(request.match_info["camera_id"])
        service = _PATHS.get(request.match_info["service"])
        if service is None or not self.known(camera_id):
            return web.Response(status=404, text="no such ONVIF service\n")
        if service == "ptz" and not self.devices(camera_id).ptz:
            return web.Response(status=404, text="this camera has no PTZ service\n")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            fault = SoapFault(f"the request exceeds {MAX_REQUEST_BYTES} bytes", status=413)
            return self._response(fault.status, self._fault(fault))
        status, payload = self.handle(camera_id, service, body)
        return self._response(status, payload)

    async def _snapshot(self, request: web.Request) -> web.Response:
        camera_id = int(request.match_info["camera_id"])
        kind = PROFILE_KINDS.get(request.query.get("profile", "main"))
        if kind is None or not self.known(camera_id):
            return web.Response(status=404, text="no such snapshot\n")
        device = self.devices(camera_id)
        if not basic_credentials_match(request.headers.get("Authorization"), device):
            return web.Response(
                status=401,
                text="credentials needed\n",
                headers={"WWW-Authenticate": 'Basic realm="Argus simulated camera"'},
            )
        heading = None
        if device.ptz:
            heading = sector_heading(self.ptz.position(camera_id).pan, self.ptz_sectors)
        settings = self.media.settings[kind]
        jpeg = await self._snapshots.jpeg(camera_id, settings, heading)
        return web.Response(body=jpeg, content_type="image/jpeg")

    @staticmethod
    def _response(status: int, payload: bytes) -> web.Response:
        return web.Response(status=status, body=payload, content_type=CONTENT_TYPE, charset="utf-8")

    def _fault(self, fault: SoapFault) -> bytes:
        self.stats.faults[fault.subcodes[-1] if fault.subcodes else fault.code] += 1
        return render_fault(self.templates, fault)

    def handle(self, camera_id: int, service: str, body: bytes) -> tuple[int, bytes]:
        """Answer one request to one camera's service: (HTTP status, SOAP envelope)."""
        self.stats.requests += 1
        try:
            device = self.devices(camera_id)
            request = parse_request(body)
            namespace, operations = _SERVICES[service]
            now = datetime.now(UTC)
            if not (service == "device" and request.name in device_service.PRE_AUTH):
                check_token(
                    read_token(request.header),
                    camera_id=camera_id,
                    username=device.username,
                    password=device.password,
                    nonces=self._nonces,
                    now=now,
                    max_skew_s=self.max_clock_skew_s,
                    status=device.auth_fault_status,
                )
            handler = operations.get(request.name) if request.namespace == namespace else None
            if handler is None:
                raise SoapFault(
                    f"{request.name[:60]} is not an operation of the {service} service",
                    "ActionNotSupported",
                    code="Receiver",
                )
            call = CameraCall(
                device=device,
                templates=self.templates,
                urls=self.urls(camera_id),
                media=self.media,
                ptz=self.ptz,
                now=now,
            )
            return 200, to_bytes(handler(call, request.operation))
        except SoapFault as fault:
            return fault.status, self._fault(fault)
        except Exception:
            log.exception("the ONVIF simulator failed on a request to camera %d", camera_id)
            return 500, self._fault(SoapFault("internal error of the simulator", code="Receiver"))


def _media_sectors(media: MediaSource) -> int:
    """The RTSP simulator's number of heading sectors, so snapshots match its pictures."""
    sectors = getattr(media, "ptz_sectors", DEFAULT_SECTORS)
    return sectors if isinstance(sectors, int) else DEFAULT_SECTORS
