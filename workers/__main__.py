"""`python -m workers`: run a worker against the app built from the environment."""

from service import create_app
from workers.runtime import run_worker

if __name__ == "__main__":
    run_worker(create_app())
