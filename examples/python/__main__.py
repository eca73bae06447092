"""RotatedPostgresCredentials in direct mode, from Python: the Python twin of examples/yaml.

The SDK (`pulumi_postgres_rotator`) is generated from the plugin's schema.json and ships in the
npm package (sdk/python); the plugin it talks to is named in Pulumi.yaml. Config keys as in
examples/yaml: host, port, database, managingUser, managingPassword (secret), sslMode,
username1, username2, group, rotationTrigger.
"""

import pulumi
import pulumi_postgres_rotator as rotator

config = pulumi.Config()

db = rotator.RotatedPostgresCredentials(
    "app-db",
    database=rotator.CredentialsDatabaseArgs(
        host=config.require("host"),
        port=config.get_int("port") or 5432,
        database=config.require("database"),
        managing_user=rotator.CredentialArgs(
            username=config.require("managingUser"),
            password=config.require_secret("managingPassword"),
        ),
        ssl=rotator.SslArgs(mode=config.get("sslMode") or "verify-full"),
    ),
    rotate_users=rotator.UserPairArgs(
        username1=config.get("username1") or "app_user_1",
        username2=config.get("username2") or "app_user_2",
    ),
    member_of=[config.get("group") or "app_users"],
    rotation_trigger=config.require("rotationTrigger"),
)

pulumi.export("currentUsername", db.current_username)
pulumi.export("rotatedAt", db.rotated_at)
# Secret {username, password}: pulumi stack output --show-secrets current
pulumi.export("current", db.current)
# Secret {username, password} of the other user, valid until the next rotation.
pulumi.export("previous", db.previous)
