"""A small Prefect API client over urllib, retrying 503s as the real client does."""
import json
import time
import urllib.error
import urllib.request

from . import settings


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class Unreachable(Exception):
    pass


def api_url():
    url = settings.get("PREFECT_API_URL")
    if not url:
        raise ValueError(
            "No Prefect API URL provided. Please set PREFECT_API_URL to the address of a running Prefect server."
        )
    return url.rstrip("/")


def request(method, path, body=None, timeout=10, retries=5):
    url = api_url() + path
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(retries + 1):
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("X-PREFECT-API-VERSION", "0.8.4")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            if error.code in (429, 502, 503) and attempt < retries:
                time.sleep(min(2**attempt * 0.2, 5))
                continue
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise ApiError(error.code, parsed)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
            raise Unreachable("All connection attempts failed") from error
