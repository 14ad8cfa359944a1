# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator settings: accepted credentials, demo defaults and identifier rules."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import re
import uuid

PROJECT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# The same rule as the collection (plugins/module_utils/dbss_settings.py): IDs are URL path segments.
RESOURCE_ID_RE = re.compile(r"^(?!.*\.\.)[A-Za-z0-9_.-]{1,128}$")
# A region name (cn-north-4, eu-west-101, ap-southeast-3), optionally with a sub-project
# suffix (cn-north-4_team-a): the names IAM gives the projects of an account.
PROJECT_NAME_RE = re.compile(r"^[a-z]{2}-[a-z]+-[0-9]{1,3}(_[A-Za-z0-9-]{1,60})?$")

DEMO_TOKEN = "demo-token"
DEMO_ACCESS_KEY = "DEMOACCESSKEY"
DEMO_SECRET_KEY = "demo-secret-key"
DEMO_USER = "demo-user"
DEMO_PASSWORD = "demo-password"
DEMO_DOMAIN = "demo-domain"
DEFAULT_PROJECT_NAME = "cn-north-4"
DEFAULT_TOKEN_TTL = 24 * 3600


def derived_id(kind, name):
    """A stable 32-hex identifier for a name (projects scoped by name, users, domains)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "hwcloud-dbss-emulator:%s:%s" % (kind, name)).hex


class Config:
    """Everything the command line decides.  Holds secrets: never log or print it."""

    def __init__(self, tokens=None, access_key=None, secret_key=None, security_token=None,
                 user=None, password=None, domain=None, project_id=None, project_name=DEFAULT_PROJECT_NAME,
                 token_ttl=DEFAULT_TOKEN_TTL, example=False, verbose=False, requests_per_minute=0,
                 documented_path=True, instance_delay=0.0):
        self.tokens = list(tokens or [])
        self.access_key = access_key
        self.secret_key = secret_key
        self.security_token = security_token
        self.user = user
        self.password = password
        self.domain = domain
        self.project_id = project_id
        self.project_name = project_name
        self.token_ttl = token_ttl
        self.example = example
        self.verbose = verbose
        self.requests_per_minute = requests_per_minute or 0
        self.documented_path = documented_path
        self.instance_delay = float(instance_delay or 0)

    def __repr__(self):
        return "Config(<secrets hidden>, example=%r)" % self.example

    @classmethod
    def from_args(cls, args):
        """Build from parsed CLI arguments; with no credential flag at all, use the demo set."""
        config = cls._credentials_from_args(args)
        rpm = getattr(args, "requests_per_minute", 0) or 0
        if rpm < 0:
            raise ValueError("--requests-per-minute must be >= 0 (0: no quota)")
        config.requests_per_minute = rpm
        config.documented_path = not getattr(args, "no_documented_path", False)
        delay = getattr(args, "instance_delay", 0) or 0
        if delay < 0 or math.isnan(delay):
            raise ValueError("--instance-delay must be a number of seconds >= 0")
        config.instance_delay = float(delay)
        return config

    @classmethod
    def _credentials_from_args(cls, args):
        given = bool(args.token or args.access_key or args.secret_key or args.security_token
                     or args.user or args.password or args.domain)
        if not given:
            return cls(tokens=[DEMO_TOKEN], access_key=DEMO_ACCESS_KEY, secret_key=DEMO_SECRET_KEY,
                       user=DEMO_USER, password=DEMO_PASSWORD, domain=DEMO_DOMAIN,
                       project_id=args.project_id, project_name=args.project_name,
                       token_ttl=args.token_ttl, example=args.example, verbose=args.verbose)
        if bool(args.access_key) != bool(args.secret_key):
            raise ValueError("--access-key and --secret-key go together")
        if args.security_token and not args.access_key:
            raise ValueError("--security-token needs --access-key and --secret-key")
        if (args.user or args.password or args.domain) and not (args.user and args.password and args.domain):
            raise ValueError("--user, --password and --domain go together")
        return cls(tokens=args.token, access_key=args.access_key, secret_key=args.secret_key,
                   security_token=args.security_token, user=args.user, password=args.password,
                   domain=args.domain, project_id=args.project_id, project_name=args.project_name,
                   token_ttl=args.token_ttl, example=args.example, verbose=args.verbose)

    def secret_for(self, access_key):
        if self.access_key is not None and access_key == self.access_key:
            return self.secret_key
        return None

    def project_id_for_name(self, name):
        """The default id of the project called ``name``: ``--project-id`` for ``--project-name``."""
        if self.project_id and name == self.project_name:
            return self.project_id
        return derived_id("project", name)

    @property
    def domain_id(self):
        """The account (domain) id shown in projects and tokens."""
        return derived_id("domain", self.domain or DEMO_DOMAIN)
