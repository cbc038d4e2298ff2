import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Secret-bearing and ordinary commands shared by the redaction tests. */

// The team's shared corpus is read at test time; the committed copy stands in on a fresh clone.
const SHARED = new URL('../../../shared/secrets/corpus.tsv', import.meta.url);
const COPY = new URL('../fixtures/secrets-corpus.tsv', import.meta.url);
export const CORPUS = fileURLToPath(existsSync(SHARED) ? SHARED : COPY);

/** command<TAB>secret rows of the shared corpus (read at test time, comments skipped). */
export function corpusRows(): Array<[string, string]> {
  return readFileSync(CORPUS, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const tab = line.lastIndexOf('\t');
      return [line.slice(0, tab), line.slice(tab + 1)] as [string, string];
    });
}

/** [command, secret, a readable part that must survive] — fake values in real formats. */
export const WIDER: ReadonlyArray<readonly [string, string, string]> = [
  [
    'export OPENAI_API_KEY=sk-4bC9dE2fG7hJ1kL6mN3pQ8rS5tU0vW2xY9zA1bC3dE5f',
    'sk-4bC9dE2fG7hJ1kL6mN3pQ8rS5tU0vW2xY9zA1bC3dE5f',
    'export OPENAI_API_KEY=',
  ],
  [
    'curl https://api.x.ai/v1/chat -H "Authorization: Bearer xai-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz"',
    'xai-Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz',
    'https://api.x.ai/v1/chat',
  ],
  [
    'gh auth login --with-token gho_16C7e42F292c6912E7710c838347Ae178B4a',
    'gho_16C7e42F292c6912E7710c838347Ae178B4a',
    'gh auth login',
  ],
  [
    'git push https://x-access-token:ghs_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78@github.com/o/r.git',
    'ghs_Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78',
    'github.com/o/r.git',
  ],
  [
    'echo ghu_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8 > ~/.token',
    'ghu_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8',
    '~/.token',
  ],
  [
    'GH_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ gh repo list',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ',
    'gh repo list',
  ],
  [
    "curl --header 'PRIVATE-TOKEN: glpat-xY7zW9vU1tS3rQ5pO7nM' https://gitlab.com/api/v4/projects",
    'glpat-xY7zW9vU1tS3rQ5pO7nM',
    'gitlab.com/api/v4',
  ],
  [
    'curl -X POST -H "Authorization: Bearer xoxp-2222222222-3333333333-AbCdEfGhIjKl" slack.com/api/chat.postMessage',
    'xoxp-2222222222-3333333333-AbCdEfGhIjKl',
    'chat.postMessage',
  ],
  [
    'stripe listen --api-key sk_live_51HcXyZAbCdEfGhIjKlMnOpQr',
    'sk_live_51HcXyZAbCdEfGhIjKlMnOpQr',
    'stripe listen --api-key',
  ],
  [
    'export STRIPE_RESTRICTED=rk_live_51AbCdEfGhIjKlMnOpQrStUv',
    'rk_live_51AbCdEfGhIjKlMnOpQrStUv',
    'export STRIPE_RESTRICTED=',
  ],
  ['AWS_ACCESS_KEY_ID=ASIAY34FZKBOKMUTVV7A aws s3 ls', 'ASIAY34FZKBOKMUTVV7A', 'aws s3 ls'],
  [
    'aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE9',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLE9',
    'aws configure set aws_secret_access_key',
  ],
  [
    'curl "https://maps.googleapis.com/maps/api/geocode/json?address=x&key=AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"',
    'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
    'maps.googleapis.com',
  ],
  [
    'echo "//registry.npmjs.org/:_authToken=npm_Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8B" >> ~/.npmrc',
    'npm_Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe9Dc8B',
    '~/.npmrc',
  ],
  [
    'huggingface-cli login --token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    'hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    'huggingface-cli login --token',
  ],
  [
    'curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U" api.local',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'api.local',
  ],
  [
    'export SESSION=eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.c2lnbmF0dXJlMTIz',
    'eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.c2lnbmF0dXJlMTIz',
    'export SESSION=',
  ],
  ['mysqldump -uroot -pR00tDumpPw --all-databases > all.sql', 'R00tDumpPw', '--all-databases > all.sql'],
  ['mariadb -h db -u app -p"q uoted pw" app', 'q uoted pw', 'mariadb -h db -u app'],
  ['mysql --user=app --password=My5qlAppPw app', 'My5qlAppPw', 'mysql --user=app --password='],
  ['mysqladmin -u root -pAdm1nPw status', 'Adm1nPw', 'status'],
  ['pg_dump "postgresql://backup:B4ckupPw@10.0.0.5/app" > app.sql', 'B4ckupPw', 'postgresql://backup:'],
  ['redis-cli -u redis://:R3disOnlyPw@cache:6379 ping', 'R3disOnlyPw', '@cache:6379'],
  [
    'mongosh "mongodb+srv://admin:M0ngoPw!@cluster0.abc.mongodb.net/test"',
    'M0ngoPw!',
    'cluster0.abc.mongodb.net',
  ],
  [
    'git clone https://alice:Gi7HubPw@git.example.com/team/repo.git',
    'Gi7HubPw',
    'git.example.com/team/repo.git',
  ],
  ['curl --user bob:B0bsCurlPw https://nas.local/api', 'B0bsCurlPw', 'curl --user bob:'],
  [
    'wget --http-user=me --http-password=W9etHttpPw https://files.local/x.iso',
    'W9etHttpPw',
    'https://files.local/x.iso',
  ],
  [
    'export DB_PASSWORD="correct horse battery staple"',
    'correct horse battery staple',
    'export DB_PASSWORD=',
  ],
  [
    "export VAULT_TOKEN='hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz'",
    'hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz',
    'export VAULT_TOKEN=',
  ],
  ['MYSQL_PWD=Env5qlPw mysql -u root', 'Env5qlPw', 'mysql -u root'],
  ['PGPASSWORD=PgEnvPw9 psql -h db -U app', 'PgEnvPw9', 'psql -h db -U app'],
  ['export CLIENT_SECRET=c1i3nt-s3cr3t-v4lu3', 'c1i3nt-s3cr3t-v4lu3', 'export CLIENT_SECRET='],
  ['export SMTP_PASS=Smtp9Pass', 'Smtp9Pass', 'export SMTP_PASS='],
  ['export AZURE_CREDENTIALS=Az9CredBlob', 'Az9CredBlob', 'export AZURE_CREDENTIALS='],
  ['set -gx OPENROUTER_API_KEY Fish5etKey9', 'Fish5etKey9', 'set -gx OPENROUTER_API_KEY'],
  ['setenv APP_SECRET CshSecret42', 'CshSecret42', 'setenv APP_SECRET'],
  ['docker run -e POSTGRES_PASSWORD=D0ckerPgPw -d postgres:16', 'D0ckerPgPw', 'postgres:16'],
  [
    'docker build --build-arg NPM_TOKEN=BuildArgTok9 .',
    'BuildArgTok9',
    'docker build --build-arg NPM_TOKEN=',
  ],
  [
    'curl -H "Authorization: Basic YWxpY2U6c2VjcmV0" https://x.local',
    'YWxpY2U6c2VjcmV0',
    'Authorization: Basic',
  ],
  [
    'curl -H "X-Api-Key: 8f14e45fceea167a5a36dedd4bea2543" https://api.local',
    '8f14e45fceea167a5a36dedd4bea2543',
    'X-Api-Key:',
  ],
  [
    'docker login registry.local -u ci --password R3gistryPw',
    'R3gistryPw',
    'docker login registry.local -u ci --password',
  ],
  ['podman login -u ci -p P0dmanPw quay.io', 'P0dmanPw', 'quay.io'],
  [
    'echo "R3gPipePw" | docker login -u ci --password-stdin',
    'R3gPipePw',
    'docker login -u ci --password-stdin',
  ],
  ['vault login -method=userpass username=me password=Va9ltPw', 'Va9ltPw', 'vault login -method=userpass'],
  [
    'kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:aa',
    'abcdef.0123456789abcdef',
    'kubeadm join 10.0.0.1:6443',
  ],
  ['terraform apply -var db_password=Tf9VarPw', 'Tf9VarPw', 'terraform apply -var'],
  ['app --api-key=Ap1KeyFlag9 --verbose', 'Ap1KeyFlag9', '--verbose'],
  ['deploy --secret S3cretFlagVal --env prod', 'S3cretFlagVal', '--env prod'],
  ['npm config set //npm.pkg.github.com/:_authToken PkgGh9AuthTok', 'PkgGh9AuthTok', 'npm config set'],
  ['git config --global github.token G1tCfgTok9', 'G1tCfgTok9', 'git config --global github.token'],
  ['sshpass -p Ssh9PassPw ssh admin@router', 'Ssh9PassPw', 'ssh admin@router'],
  ['redis-cli -h cache -a R3disCliPw info', 'R3disCliPw', 'info'],
  ['7z a -pArch1vePw backup.7z ~/docs', 'Arch1vePw', 'backup.7z ~/docs'],
  ['openssl enc -aes-256-cbc -in a -out b -pass pass:0pens5lPw', '0pens5lPw', '-pass pass:'],
  ['htpasswd -bc /etc/nginx/.htpasswd admin Htp4sswdPw', 'Htp4sswdPw', '/etc/nginx/.htpasswd admin'],
  [
    'nmcli dev wifi connect HomeNet password W1f1Passw0rd',
    'W1f1Passw0rd',
    'nmcli dev wifi connect HomeNet password',
  ],
  [
    'curl -d \'{"username":"me","password":"J50nPassw0rd"}\' https://x.local/login',
    'J50nPassw0rd',
    '"username":"me"',
  ],
  ['curl "https://api.local/v1/items?access_token=Qu3ryTok9&page=2"', 'Qu3ryTok9', '&page=2'],
  [
    'kubectl create secret generic db --from-literal=password=K8sLit3ralPw',
    'K8sLit3ralPw',
    'kubectl create secret generic db',
  ],
  [
    'echo sk-ant-api03-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp | pbcopy',
    'sk-ant-api03-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp',
    'pbcopy',
  ],
  [
    'curl https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX -d "{}"',
    'XXXXXXXXXXXXXXXXXXXXXXXX',
    'hooks.slack.com/services/',
  ],
  ['mount -t cifs //nas/share /mnt -o username=bob,password=Cif5Pw,uid=1000', 'Cif5Pw', 'uid=1000'],
];

export const PRIVATE_KEY = [
  'cat > ~/.ssh/id_ed25519 <<EOF',
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZgAAAJg=',
  '-----END OPENSSH PRIVATE KEY-----',
  'EOF',
].join('\n');

/** Ordinary commands that must come through unchanged. */
export const ORDINARY: readonly string[] = [
  'mkdir -p build',
  'mkdir -p ~/src/mysql-backups && cd ~/src/mysql-backups',
  'git commit -m "fix password reset"',
  'git commit -m "token refresh: retry once"',
  'ls -la',
  'ssh -p 2222 host',
  'scp -P 2222 file host:',
  'export PATH=/usr/local/bin:$PATH',
  'export EDITOR=vim',
  'grep -r token src/',
  'grep -rn "password" --include=*.ts .',
  'cp -rp src dst',
  'tar -xpf backup.tar',
  'rsync -avP src/ nas:/backup/',
  'docker login --password-stdin -u me',
  'docker run -p 8080:80 nginx',
  'docker run -u 1000:1000 -v $PWD:/w alpine',
  'mysql -p',
  'mysql -u root -p',
  'history | grep passwd',
  'passwd',
  'ssh-keygen -t ed25519 -C me@host',
  'ssh-keygen -t ed25519 -N "" -f key',
  'cat ~/.ssh/id_ed25519.pub',
  'echo $OPENAI_API_KEY',
  'export GITHUB_TOKEN=$(gh auth token)',
  'curl -H "Authorization: Bearer $TOKEN" https://api.local',
  'aws s3 ls s3://my-bucket/keys/',
  'kubectl get secrets -n prod',
  'gpg --list-secret-keys',
  'npm install --save-dev typescript',
  'git log --author=me --since=2.days',
  'python3 -m http.server 8000',
  'curl https://example.com/token?x=$TOKEN',
  'cd /var/lib/mysql',
  'apt-key list',
  'export HISTSIZE=100000',
  'OLDPWD=/tmp cd -',
  'tokei src/',
  'find . -name "*.key" -delete',
  'git clone https://github.com/me/repo.git',
  'git clone git@github.com:me/repo.git',
  'make -j4 && sudo make install',
  'git commit -m "authorization: handle expired tokens"',
  'git commit -m "cookie: fix consent banner"',
  'git commit -m "x-api-key: document the header"',
  'echo "Bearer authentication is required"',
];
