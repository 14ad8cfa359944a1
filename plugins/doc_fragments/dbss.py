# -*- coding: utf-8 -*-
# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection and authentication options shared by every hwcloud.dbss module.
    DOCUMENTATION = r"""
options:
  project_id:
    description:
      - ID of the Huawei Cloud project (IAM project) that owns the DBSS instances.
      - 32 to 64 characters of V(A-Z), V(a-z), V(0-9), V(_) or V(-).
      - If not set, the value of the E(HW_PROJECT_ID) environment variable is used.
    type: str
    required: true
  region:
    description:
      - Huawei Cloud region of the DBSS service, for example V(cn-north-4) or V(ap-southeast-1).
      - Used to build the endpoint V(https://dbss.<region>.<cloud>) when O(endpoint) is not set,
        and the default IAM O(auth_url).
      - Must be a region with a known DBSS endpoint; for any other region set O(endpoint).
      - If not set, the value of the E(HW_REGION_NAME) environment variable is used.
    type: str
  cloud:
    description:
      - Domain of the Huawei Cloud site, for example V(myhuaweicloud.eu) for Europe.
      - If not set, the value of the E(HW_CLOUD) environment variable is used.
    type: str
    default: myhuaweicloud.com
  endpoint:
    description:
      - Full base URL of the DBSS API, for example V(https://dbss.cn-north-4.myhuaweicloud.com)
        or the URL of the bundled emulator. It wins over O(region).
      - Must be an V(http://) or V(https://) URL without user info, query or fragment.
      - If not set, the value of the E(HW_DBSS_ENDPOINT) environment variable is used.
    type: str
  auth_token:
    description:
      - An IAM token, sent as C(X-Auth-Token). Wins over every other authentication mode.
      - Visible ASCII characters only, without spaces or line breaks (it goes into an HTTP header).
      - If not set, the value of E(HW_AUTH_TOKEN), then E(OS_AUTH_TOKEN), is used. For this and every
        other option, an environment variable that is set but empty counts as not set.
    type: str
  access_key:
    description:
      - Access key ID (AK). With O(secret_key), every request is signed with SDK-HMAC-SHA256.
      - If not set, the value of the E(HW_ACCESS_KEY) environment variable is used.
    type: str
  secret_key:
    description:
      - Secret access key (SK) that signs requests with O(access_key).
      - If not set, the value of the E(HW_SECRET_KEY) environment variable is used.
    type: str
  security_token:
    description:
      - Security token of temporary AK/SK credentials, sent as C(X-Security-Token).
      - Needs O(access_key) and O(secret_key).
      - If not set, the value of the E(HW_SECURITY_TOKEN) environment variable is used.
    type: str
  auth_url:
    description:
      - IAM endpoint for password login, for example V(https://iam.cn-north-4.myhuaweicloud.com/v3).
      - Defaults to V(https://iam.<region>.<cloud>/v3).
      - If not set, the value of the E(HW_AUTH_URL) environment variable is used.
    type: str
  user_name:
    description:
      - IAM user name for password login; needs O(password) and O(domain_name).
      - The module logs in once per run, with a token scoped to O(project_id), and logs in
        once more if the API answers 401 while it polls.
      - If not set, the value of the E(HW_USER_NAME) environment variable is used.
    type: str
  password:
    description:
      - Password of O(user_name).
      - If not set, the value of the E(HW_USER_PASSWORD) environment variable is used.
    type: str
  domain_name:
    description:
      - Account (domain) name that O(user_name) belongs to.
      - If not set, the value of the E(HW_DOMAIN_NAME) environment variable is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API. Turn it off only for a lab;
        prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed certificates) used to verify the API's certificate.
    type: path
  timeout:
    description:
      - Seconds one HTTP exchange may take in all (connecting, sending, and receiving the whole answer),
        above 0 and at most 3600. A server that keeps the answer trickling in is cut off at this limit.
      - A number, or its text (as an environment variable or a template gives it).
    type: raw
    default: 30
  max_retries:
    description:
      - How many times one request is retried after a transient failure (connection error,
        read timeout, HTTP 429, 500, 502, 503 or 504), with exponential backoff and full jitter,
        honouring C(Retry-After). V(0) disables retries. At most 20.
      - The retries of one request never run past a deadline. Outside a wait, the deadline is as long
        as the request would take if every attempt timed out and every pause were at its longest
        (195.5 s with the defaults); a longer C(Retry-After) ends the request early.
      - If not set, the value of the E(HW_MAX_RETRIES) environment variable is used.
      - An integer, or its text.
    type: raw
    default: 5
notes:
  - "Authentication modes, strongest precedence first: O(auth_token); O(access_key) + O(secret_key)
     (+ O(security_token)); O(user_name) + O(password) + O(domain_name). An incomplete set (for example
     O(access_key) without O(secret_key)) is an error that names the missing option, even when another mode is complete."
  - Every option can be set once for many tasks with C(module_defaults) and the group C(group/hwcloud.dbss.dbss).
  - Secrets (O(auth_token), O(secret_key), O(security_token), O(password)) are never logged or returned.
requirements:
  - python >= 3.8
  - requests
"""
