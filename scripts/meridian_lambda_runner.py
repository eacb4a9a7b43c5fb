#!/usr/bin/env python3
"""Runs an AWS Lambda Python handler once, as a Meridian rotation hook command.

    meridian_lambda_runner.py PATH/TO/lambda_function.py [HANDLER]

HANDLER defaults to lambda_handler. Meridian starts this once per rotation step with the event
({"SecretId", "ClientRequestToken", "Step"}) on stdin and the environment a Lambda would have
(AWS_REGION, SECRETS_MANAGER_ENDPOINT, the execution role's AWS_ACCESS_KEY_ID / ...
AWS_SESSION_TOKEN; see src/secrets/hook_rotator.h). The handler runs unchanged: it gets the event
and a context object with Lambda's attributes. A return is success (exit 0, the result printed as
JSON); an exception is a failed invocation (exit 1; the last line of output is
"<ErrorType>: <message>", as Lambda's errorType / errorMessage).
"""

import importlib.util
import json
import logging
import os
import sys
import time
import traceback
import uuid


class LambdaContext:
    def __init__(self, timeout_seconds):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "rotation-function")
        self.function_version = "$LATEST"
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{self.function_name}"
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(argv):
    if len(argv) < 2:
        print("usage: meridian_lambda_runner.py PATH/TO/lambda_function.py [HANDLER]", file=sys.stderr)
        return 2
    path = argv[1]
    handler_name = argv[2] if len(argv) > 2 else "lambda_handler"
    # Lambda's Python runtime gives the root logger a handler; the templates log through it.
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[%(levelname)s] %(message)s")
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("lambda_function", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        handler = getattr(module, handler_name)
        event = json.load(sys.stdin)
        context = LambdaContext(int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "30")))
        result = handler(event, context)
    except Exception as e:  # noqa: BLE001 - reported as Lambda reports a function error
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
