"""A rotation function in the shape of AWS's Secrets Manager rotation template
(SecretsManagerRotationTemplate, lambda_function.py): lambda_handler(event, context) with the four
steps, boto3 against SECRETS_MANAGER_ENDPOINT. It rotates a generic secret
{"username", "password"} whose "service" is a credentials file (TARGET_FILE): setSecret installs
the pending password there, testSecret checks it. FAIL_AT=<step> makes that step raise, as a broken
function would. Used by test_secret_rotation_hooks.py, run unchanged by scripts/meridian_lambda_runner.py
(command hook) and by an HTTP hook.
"""

import json
import logging
import os

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    arn = event['SecretId']
    token = event['ClientRequestToken']
    step = event['Step']

    # Setup the client
    service_client = boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])

    # Make sure the version is staged correctly
    metadata = service_client.describe_secret(SecretId=arn)
    if not metadata['RotationEnabled']:
        logger.error("Secret %s is not enabled for rotation" % arn)
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata['VersionIdsToStages']
    if token not in versions:
        logger.error("Secret version %s has no stage for rotation of secret %s." % (token, arn))
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s." % (token, arn))
        return
    elif "AWSPENDING" not in versions[token]:
        logger.error("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))

    if os.environ.get('FAIL_AT') == step:
        raise RuntimeError("%s failed: the service refused the new credentials" % step)

    if step == "createSecret":
        create_secret(service_client, arn, token)
    elif step == "setSecret":
        set_secret(service_client, arn, token)
    elif step == "testSecret":
        test_secret(service_client, arn, token)
    elif step == "finishSecret":
        finish_secret(service_client, arn, token)
    else:
        raise ValueError("Invalid step parameter")


def create_secret(service_client, arn, token):
    """Generate a new secret (AWSPENDING), keeping the other members of the current one."""
    current_dict = json.loads(service_client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")['SecretString'])
    try:
        service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        logger.info("createSecret: Successfully retrieved secret for %s." % arn)
    except service_client.exceptions.ResourceNotFoundException:
        exclude_characters = os.environ.get('EXCLUDE_CHARACTERS', '/@"\'\\')
        passwd = service_client.get_random_password(ExcludeCharacters=exclude_characters)
        current_dict['password'] = passwd['RandomPassword']
        service_client.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                        SecretString=json.dumps(current_dict), VersionStages=['AWSPENDING'])
        logger.info("createSecret: Successfully put secret for ARN %s and version %s." % (arn, token))


def set_secret(service_client, arn, token):
    """Install the pending password in the service (here: its credentials file)."""
    pending = json.loads(service_client.get_secret_value(SecretId=arn, VersionId=token,
                                                         VersionStage="AWSPENDING")['SecretString'])
    target = os.environ['TARGET_FILE']
    tmp = target + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"username": pending['username'], "password": pending['password']}, f)
    os.replace(tmp, target)
    logger.info("setSecret: installed the pending password of %s." % arn)


def test_secret(service_client, arn, token):
    """Log in to the service with the pending secret."""
    pending = json.loads(service_client.get_secret_value(SecretId=arn, VersionId=token,
                                                         VersionStage="AWSPENDING")['SecretString'])
    with open(os.environ['TARGET_FILE']) as f:
        installed = json.load(f)
    if installed != {"username": pending['username'], "password": pending['password']}:
        raise ValueError("testSecret: the pending secret of %s does not log in" % arn)


def finish_secret(service_client, arn, token):
    """Finish the secret: move AWSCURRENT to the pending version."""
    metadata = service_client.describe_secret(SecretId=arn)
    current_version = None
    for version in metadata["VersionIdsToStages"]:
        if "AWSCURRENT" in metadata["VersionIdsToStages"][version]:
            if version == token:
                logger.info("finishSecret: Version %s already marked as AWSCURRENT for %s" % (version, arn))
                return
            current_version = version
            break
    service_client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                               RemoveFromVersionId=current_version)
    logger.info("finishSecret: Successfully set AWSCURRENT stage to version %s for secret %s." % (token, arn))
