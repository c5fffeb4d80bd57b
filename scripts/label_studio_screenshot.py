"""Screenshot of a task in a running Label Studio (the README's docs/img/label-studio-task.png).

Logs in with the local user `make label-studio` made, opens a task, clicks one unit so its label
choices show, and saves the page at 1400x900. Nothing is submitted. Needs Chromium and its driver
(Debian: `apt-get install chromium chromium-driver pngquant`) and selenium (`pip install selenium`
in any virtualenv); none of it is a dependency of argmine.

    python scripts/label_studio_screenshot.py --url http://127.0.0.1:8080 --project 1 --task 1 \\
        --region 31 --out /tmp/raw.png
    pngquant --quality=70-90 --strip --force --output docs/img/label-studio-task.png /tmp/raw.png
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--credentials", type=Path, default=ROOT / ".label-studio" / "credentials.json")
    parser.add_argument("--project", type=int, default=1)
    parser.add_argument("--task", type=int, default=1)
    parser.add_argument("--region", type=int, default=0, help="which unit to select (0-based, in text order)")
    parser.add_argument("--out", type=Path, default=Path("label-studio-task.png"))
    args = parser.parse_args()

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    creds = json.loads(args.credentials.read_text())
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        # the viewport itself at 1400x900 (--window-size would include headless Chromium's frame)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        wait = WebDriverWait(driver, 60)
        driver.get(f"{args.url}/user/login/")  # the ordinary, CSRF-protected login form
        wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(creds["username"])
        driver.find_element(By.NAME, "password").send_keys(creds["password"])
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
        wait.until(lambda d: "/user/login" not in d.current_url)

        driver.get(f"{args.url}/projects/{args.project}/data?task={args.task}")
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "span.htx-highlight")))
        time.sleep(3)  # let the regions of the prediction render
        span = driver.find_elements(By.CSS_SELECTOR, "span.htx-highlight")[args.region]
        driver.execute_script("arguments[0].scrollIntoView({block:'center'})", span)
        time.sleep(0.5)
        span.click()
        time.sleep(1.5)
        # the per-region choices sit below the text: scroll the text pane to its end
        choice = wait.until(EC.visibility_of_element_located((By.XPATH, "//*[normalize-space(text())='federalism']")))
        driver.execute_script("""
            let e = arguments[0];
            while (e) {
              const s = getComputedStyle(e).overflowY;
              if (e.scrollHeight > e.clientHeight + 5 && (s == 'auto' || s == 'scroll')) e.scrollTop = e.scrollHeight;
              e = e.parentElement;
            }""", choice)
        time.sleep(1)
        driver.save_screenshot(str(args.out))
        print(f"saved {args.out}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
