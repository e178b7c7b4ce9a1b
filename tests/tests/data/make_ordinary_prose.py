#!/usr/bin/env python3
"""Writes ordinary_prose.txt: text with no secret and no personal data, but
with the things detectors must leave alone (numbers, dates, order ids,
phone-like numbers, versions, UUIDs, hashes, prices, digit runs). The
hand-written lines come first; the templated ones follow, from a fixed seed,
so the file is the same on every run: python3 make_ordinary_prose.py."""
import hashlib, random, uuid, pathlib

HAND = """\
The agent read the quarterly report and summarised it in three bullet points.
Please find attached the minutes of Tuesday's meeting; the next one is on the 14th.
Our team shipped version 2.4.1 last week, and the changelog lists forty-two fixes.
The recipe calls for 250 g of flour, 2 eggs, 300 ml of milk and a pinch of salt.
Preheat the oven to 180 degrees and bake for 35 to 40 minutes.
The train leaves platform 9 at 10:45 and arrives in Lyon at 14:12.
Tokens are counted per request; the model used 1532 input tokens and 411 output tokens.
The bearer of this letter is entitled to one free coffee.
Set max_tokens to 4096 and temperature to 0.2 for the summarisation step.
A session of the conference on distributed systems starts at 9 a.m. in room B204.
The secret to a good sourdough is patience and a warm kitchen.
She kept the cookie jar on the top shelf, out of the children's reach.
Password managers make it easy to use a different password on every site.
The API key rotation policy is documented in the security handbook, chapter 4.
Credentials are issued by the platform team after a short onboarding call.
The tokenizer splits the sentence into 17 pieces before the model sees it.
We measured 1,234,567 requests per day at peak, with a p99 latency of 412 ms.
Revenue grew 12.5% year over year to $4,310,000 in fiscal 2023.
The invoice total is EUR 1 249,90, payable within 30 days.
Call the front desk on extension 4411 if the projector does not start.
The hike is 14.2 km long with 860 m of climbing; allow five hours.
Our office moved to the fourth floor of the building at 221 Harbour Street.
The library opens at 8:30 on weekdays and at 10:00 on Saturdays.
In 1969, the Apollo 11 mission landed on the Moon on July 20.
The speed of light is about 299,792,458 metres per second.
Pi is approximately 3.14159265358979323846 and e is about 2.71828182845904523536.
The population of the city was 2,161,000 in the last census.
Use git rebase -i HEAD~3 to squash the last three commits.
Run cargo build --release and then ./target/release/agent --help.
The container image is tagged 2024.06.01-rc2 and weighs 312 MB.
Kubernetes restarted the pod 3 times before the readiness probe passed.
The meeting was moved from 3 pm to 4 pm because of the fire drill.
The dataset has 50,000 rows and 37 columns, of which 5 are categorical.
The graph shows a steady rise from January to April and a dip in May.
A good prompt states the task, the audience, the format and an example.
The tool returned 12 search results; the agent kept the top 3.
Latency dropped from 850 ms to 310 ms after we enabled response caching.
The benchmark ran on 2 cores with 24 GiB of memory.
The warehouse shipped 18,450 parcels in November and 22,910 in December.
The ticket was closed as a duplicate of an older report about timeouts.
Remember to water the tomatoes every other day during the heat wave.
The museum's new wing displays 340 paintings from the 17th century.
The flight was delayed by 2 hours and 15 minutes due to fog in Frankfurt.
His marathon time improved from 3:58:12 to 3:41:07 in one season.
The printer on the second floor needs a new toner cartridge.
The insurance policy covers accidental damage up to 5000 dollars.
This release drops support for Python 3.8 and adds support for 3.13.
The npm package @scope/widgets@4.2.0 depends on react@18.2.0.
Pin numpy==1.26.4 and pandas==2.2.2 in requirements.txt.
The retina icon is saved as logo@2x.png next to logo.png.
Ping @platform-team in the channel if the deploy fails.
The skier took the sk-3 lift to the summit station at 2,450 m.
Scikit-learn, often shortened to sklearn, provides sk-style estimators.
The task-management-service-for-teams handles 400 requests per second.
Hugs and kisses, xoxo, see you at the reunion next summer.
The AKIA conference on Asian art is held every spring.
GB News reported that the DE team won 3 to 1.
The form asks for your name, your city and the size of your party.
Order confirmation: your table for 4 is booked for Friday at 19:30.
The satellite completes an orbit every 92 minutes at 408 km altitude.
The board approved a budget of 2.3 million for the new data centre.
Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.
The committee will review the proposal and respond within 10 working days.
Thanks for your patience while we investigate the outage.
The chart on page 12 compares the three pricing plans side by side.
Add two tablespoons of olive oil and stir for a minute.
The bridge is 1,280 metres long and opened to traffic in 1937.
Mount Everest is 8,849 metres high according to the 2020 survey.
A byte holds 8 bits and a kibibyte holds 1024 bytes.
The config sets retries = 3 and timeout_ms = 2500 for every tool.
Set token_count = 0 before each batch and session_timeout = 30.
The password_hint field is shown when a user forgets their password.
In chess, the knight moves in an L shape and can jump over pieces.
The patient was advised to rest for a week and drink plenty of water.
The final score was 104 to 98 after overtime.
Bus 47 runs every 12 minutes between 6:00 and 23:30.
The garden has 14 apple trees, 6 pear trees and a row of raspberries.
The quarterly newsletter goes out on the first Monday of each quarter.
We recommend at least 16 GB of RAM for local development.
The agent retried the tool call twice before giving up with a timeout.
The estimate for the migration is 6 to 8 weeks with two engineers.
Our support hours are 9 to 5, Monday to Friday, except public holidays.
Grace Hopper popularised the term debugging after finding a moth in a relay.
The spreadsheet has a column for the date, the amount and the category.
The sample rate is 44.1 kHz and the bit depth is 16 bits.
The volcano last erupted in 1991 and is monitored around the clock.
The marathon route passes 5 bridges and 3 parks.
Keep the receipt; returns are accepted within 30 days of purchase.
The model's context window is 128k tokens, enough for a long contract.
The cache hit rate rose to 93.4% after the fix.
Bearer bonds were common in the early 20th century.
The ISBN of the second edition is 978-0-13-110362-7.
The serial number on the back reads SN 20231104-0042.
The lottery numbers this week were 4 8 15 16 23 42.
The reading was 1013 hPa at sea level, with winds of 15 km/h.
The docs live at https://docs.rs/tokio/latest/tokio/ and the book at https://rust-lang.github.io/async-book/.
Point the client at http://localhost:11434/v1 when the model server runs locally.
Clone it with git clone git@github.com:rust-lang/rust.git or over https://github.com/rust-lang/rust.
The service reads DATABASE_URL=postgres://app@db.internal:5432/shop from its environment.
Redis runs at redis://cache.internal:6379/0 and the queue at amqp://rabbitmq:5672/%2f.
Connect with mongodb://mongo1:27017,mongo2:27017/?replicaSet=rs0 from inside the cluster.
Set HTTPS_PROXY=http://proxy.corp.example:3128 before running the installer.
The metrics endpoint is http://127.0.0.1:9464/metrics and readiness is at /ready.
Open http://[::1]:8080/health to check the IPv6 listener.
The deploy remote is ssh://git@gitlab.example.com:2222/team/app.git for now.
The bucket is s3://datasets-eu/2024/06/ and the mirror is gs://public-data/.
See https://example.com/search?q=rust+async&page=2#results for more.
The profile page https://medium.com/@rustlang/async-rust lists the talks.
Map links look like https://www.google.com/maps/@48.8584,2.2945,17z today.
JDBC URLs look like jdbc:postgresql://db:5432/shop?user=app&ssl=true in the config.
The file URL file:///var/lib/app/data.db points at the local copy.
Basic arithmetic comes before algebra, and BASIC was a programming language.
The authorization of the loan took three days; the Authorization header is optional here.
The libpq string host=db port=5432 dbname=shop user=app sslmode=require has no password.
Use ftp://mirror.example.org/pub/ for the old releases, with anonymous login.
The URL http://admin@intranet.local/ names a user but no password.
Ratios like 16:9 or 4:3 and times like 12:30:45 are not addresses.
Visit www.example.org or example.com/pricing for details.
The registry is https://registry.npmjs.org/ and crates live at https://crates.io/crates/serde.
Subscribe to wss://stream.example.com/v1/events?channel=orders for the updates.
Proxy-Authorization is a request header; see RFC 9110, section 11.7.1.
The bearer of a Basic ticket may enter the museum on Sundays.
Authorization: pending until the manager signs the form.
Run psql postgres://localhost/shop or mysql -h db -u app -p to open a shell.
The sidecar listens on unix:///var/run/agent.sock and tcp://0.0.0.0:4317.
"""

rnd = random.Random(20240601)

def digits(n):
    return "".join(rnd.choice("0123456789") for _ in range(n))

def luhn_ok(d):
    s = 0
    for i, ch in enumerate(reversed(d)):
        x = int(ch)
        if i % 2 == 1:
            x *= 2
            if x > 9:
                x -= 9
        s += x
    return s % 10 == 0

def luhn_invalid(n):
    while True:
        d = rnd.choice("3456") + digits(n - 1)
        if not luhn_ok(d):
            return d

templates = [
    lambda: f"Order ORD-{rnd.randint(2019, 2025)}-{digits(6)} shipped on {rnd.randint(2019, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}.",
    lambda: f"Call us on +{rnd.randint(1, 49)} {digits(3)} {digits(3)} {digits(4)} between 9 and 5.",
    lambda: f"Phone: ({digits(3)}) {digits(3)}-{digits(4)}, fax {digits(3)}-{digits(3)}-{digits(4)}.",
    lambda: f"Upgrade to v{rnd.randint(0, 9)}.{rnd.randint(0, 40)}.{rnd.randint(0, 99)} before the {rnd.randint(1, 28)}th.",
    lambda: f"Request id {uuid.UUID(int=rnd.getrandbits(128), version=4)} failed with status 502.",
    lambda: f"Commit {hashlib.sha1(digits(8).encode()).hexdigest()} fixed the flaky test.",
    lambda: f"sha256 of the artefact: {hashlib.sha256(digits(8).encode()).hexdigest()}",
    lambda: f"The invoice INV-{digits(8)} totals ${rnd.randint(10, 9999)}.{digits(2)}.",
    lambda: f"Tracking number {rnd.choice(['9400', '9205', '9361', '9405'])} {digits(4)} {digits(4)} {digits(4)} {digits(4)} {digits(2)}.",
    lambda: f"Timestamp {rnd.randint(1600000000000, 1799999999999)} ms, snowflake id {rnd.randint(10**18, 2 * 10**18)}.",
    lambda: f"Reference {luhn_invalid(16)} was not found in the archive.",
    lambda: f"The batch {luhn_invalid(rnd.randint(13, 19))} contained {rnd.randint(2, 90)} items.",
    lambda: f"Account number {digits(8)} at branch {digits(6)}.",
    lambda: f"Meeting on {rnd.choice(['Monday', 'Tuesday', 'Thursday'])} {rnd.randint(1, 28)} {rnd.choice(['March', 'June', 'October'])} {rnd.randint(2020, 2026)} at {rnd.randint(8, 18)}:{rnd.choice(['00', '15', '30', '45'])}.",
    lambda: f"Server 10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)} answered in {rnd.randint(2, 900)} ms.",
    lambda: f"Coordinates {rnd.uniform(-90, 90):.6f}, {rnd.uniform(-180, 180):.6f} mark the trailhead.",
    lambda: f"Build {rnd.randint(1000, 99999)} of branch release-{rnd.randint(1, 9)}.{rnd.randint(0, 9)} passed {rnd.randint(100, 4000)} tests.",
    lambda: f"Population estimate: {rnd.randint(1000, 99999):,} in {rnd.randint(1990, 2024)}.",
    lambda: f"The ratio was {rnd.random():.17f} after {rnd.randint(2, 99)} iterations.",
    lambda: f"Ticket #{digits(5)} was escalated to tier {rnd.randint(2, 3)} support.",
    lambda: f"SKU {rnd.choice('ABCDEFGH')}{rnd.choice('ABCDEFGH')}-{digits(5)}-{rnd.choice('XYZ')} is back in stock.",
    lambda: f"The model gpt-4o-{rnd.randint(2024, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} answered {rnd.randint(1, 9)} of 10 questions.",
    lambda: f"Room {rnd.choice('ABC')}{rnd.randint(100, 599)}, seat {rnd.randint(1, 40)}, row {rnd.choice('DEFGH')}.",
    lambda: f"Flight {rnd.choice(['LH', 'AF', 'BA', 'UA'])}{rnd.randint(100, 9999)} departs at {rnd.randint(5, 23):02d}:{rnd.randint(0, 59):02d} from gate {rnd.choice('ABCD')}{rnd.randint(1, 60)}.",
    lambda: f"Latency p50 {rnd.randint(10, 90)} ms, p99 {rnd.randint(100, 900)} ms over {rnd.randint(10000, 999999)} calls.",
    lambda: f"The container {hashlib.md5(digits(6).encode()).hexdigest()[:12]} exited with code {rnd.randint(0, 137)}.",
    lambda: f"Serial {digits(3)}-{digits(3)}-{digits(3)}-{digits(3)}-{digits(3)} is under warranty.",
    lambda: f"The dataset version {rnd.randint(2020, 2025)}.{rnd.randint(1, 12)}.{rnd.randint(1, 31)} has {rnd.randint(1000, 90000)} rows.",
]

lines = HAND.strip("\n").split("\n")
for i in range(300):
    lines.append(templates[i % len(templates)]())
out = pathlib.Path(__file__).with_name("ordinary_prose.txt")
out.write_text("\n".join(lines) + "\n")
print(f"{len(lines)} lines -> {out}")
