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
      - Optional with AK/SK or a password login, as in Huawei's SDK and Terraform provider; the project
        is then found once per run by name (O(project_name), else O(region)). AK/SK ask IAM
        C(GET /v3/projects?name=...); a password login scopes its token by that name and takes the id
        from the token. Required with O(auth_token).
      - If not set, the value of E(HW_PROJECT_ID), then E(OS_PROJECT_ID), then E(OS_TENANT_ID), is used.
    type: str
  project_name:
    description:
      - Name of the IAM project to find when O(project_id) is not set, for example a sub-project
        V(cn-north-4_audit). Defaults to O(region), the name of a region's default project.
      - No project, or several, with that name is an error that names it.
      - If not set, the value of E(HW_PROJECT_NAME), then E(OS_PROJECT_NAME), then E(OS_TENANT_NAME), is used.
    type: str
  region:
    description:
      - Huawei Cloud region of the DBSS service, for example V(cn-north-4), V(ap-southeast-1) or V(eu-west-101).
      - Used to build the endpoint V(https://dbss.<region>.<cloud>) when O(endpoint) is not set,
        the default IAM O(auth_url), and the name of the project to find when O(project_id) is not set.
      - A well-formed region this release does not know is used as given, with a warning when it is
        close to a known one (most likely a typo).
      - If not set, the value of E(HW_REGION_NAME), then E(OS_REGION_NAME), is used.
    type: str
  cloud:
    description:
      - Domain of the Huawei Cloud site, for a dedicated cloud or Huawei Cloud Stack for example V(hcs.example.com).
      - When not set, V(myhuaweicloud.eu) for the Europe site's regions (V(eu-west-1xx)), else V(myhuaweicloud.com).
        A region of one public site with the other's domain is refused.
      - If not set, the value of the E(HW_CLOUD) environment variable is used.
    type: str
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
      - Needs O(project_id), as a token cannot look its project up.
      - If not set, the value of E(HW_AUTH_TOKEN), then E(OS_AUTH_TOKEN), is used. For this and every
        other option, an environment variable that is set but empty counts as not set.
    type: str
  access_key:
    description:
      - Access key ID (AK). With O(secret_key), every request is signed with SDK-HMAC-SHA256.
      - If not set, the value of E(HW_ACCESS_KEY), then E(OS_ACCESS_KEY), is used.
    type: str
  secret_key:
    description:
      - Secret access key (SK) that signs requests with O(access_key).
      - If not set, the value of E(HW_SECRET_KEY), then E(OS_SECRET_KEY), is used.
    type: str
  security_token:
    description:
      - Security token of temporary AK/SK credentials, sent as C(X-Security-Token).
      - Needs O(access_key) and O(secret_key).
      - If not set, the value of the E(HW_SECURITY_TOKEN) environment variable is used.
    type: str
  auth_url:
    description:
      - IAM endpoint for password login and for finding the project, for example
        V(https://iam.cn-north-4.myhuaweicloud.com/v3); with or without its V(/v3) suffix.
      - Defaults to what Huawei's SDK uses, V(https://iam.<region>.<cloud>/v3), or the global
        V(https://iam.myhuaweicloud.com/v3) for a region of the default site that has no IAM endpoint of its own.
      - If not set, the value of E(HW_AUTH_URL), then E(OS_AUTH_URL), is used.
    type: str
  user_name:
    description:
      - IAM user name for password login; needs O(password) and O(domain_name).
      - The module logs in once per run, with a token scoped to O(project_id) (or to the project
        named by O(project_name) or O(region)), and logs in once more if the API answers 401 while it polls.
      - If not set, the value of E(HW_USER_NAME), then E(OS_USERNAME), is used.
    type: str
  password:
    description:
      - Password of O(user_name).
      - If not set, the value of E(HW_USER_PASSWORD), then E(OS_PASSWORD), is used.
    type: str
  domain_name:
    description:
      - Account (domain) name that O(user_name) belongs to.
      - If not set, the value of E(HW_DOMAIN_NAME), then E(OS_DOMAIN_NAME), E(OS_USER_DOMAIN_NAME) or
        E(OS_PROJECT_DOMAIN_NAME), is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API. Turn it off only for a lab;
        prefer O(ca_path).
      - If not set, E(HW_INSECURE), then E(OS_INSECURE), as the Terraform provider reads them (a true
        value turns verification off).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed certificates) used to verify the API's certificate.
      - If not set, the value of the E(OS_CACERT) environment variable is used.
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
      - Throttled answers (HTTP 429, C(APIG.0308) / C(APIGW.0308)) are retried past this number until a
        gateway's one-minute quota window has passed (unless V(0)).
      - The retries of one request never run past a deadline. Outside a wait, the deadline is as long
        as the request would take if every attempt timed out and every pause were at its longest
        (195.5 s with the defaults); a longer C(Retry-After) ends the request early.
      - If not set, the value of the E(HW_MAX_RETRIES) environment variable is used.
      - An integer, or its text.
    type: raw
    default: 5
notes:
  - "Authentication modes, strongest precedence first: O(auth_token); O(access_key) + O(secret_key)
     (+ O(security_token)); O(user_name) + O(password) + O(domain_name). An incomplete AK/SK pair (for example
     O(access_key) without O(secret_key)) is an error that names the missing option, even when another mode is complete;
     an incomplete password set is an error only when no token or AK/SK is complete, as with the Terraform provider."
  - "Environment variables are the Terraform provider's, in its order of precedence (E(HW_*) first, then
     E(OS_*)): a pipeline that already runs the provider needs no new variable."
  - Every option can be set once for many tasks with C(module_defaults) and the group C(group/hwcloud.dbss.dbss).
  - Secrets (O(auth_token), O(secret_key), O(security_token), O(password)) are never logged or returned.
requirements:
  - python >= 3.8
  - requests
"""
