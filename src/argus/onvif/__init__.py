"""ONVIF: a client that steers real cameras' PTZ, and a simulator of many cameras for tests.

- `argus.onvif.client`: `OnvifPtzDriver` (the `argus.ptz.driver.PtzDriver` over SOAP, through
  onvif-zeep-async) and `OnvifDevice` (device information, profiles, stream URIs).
- `argus.onvif.simulator`: `OnvifSimulator`, the device, media and PTZ services of simulated
  cameras built on real captured responses; `argus.onvif.ptz_state.PtzRegistry` is their PTZ
  state, shared with the RTSP simulator.
- `argus.onvif.discovery`: a WS-Discovery Probe responder for the simulated cameras (unicast on
  127.0.0.1) and `probe()`, which asks one.

Importing this package loads neither onvif-zeep-async nor the captures.
"""
