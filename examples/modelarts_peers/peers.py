"""Two (or more) workers that find each other the way ModelArts' launcher tells them.

Each worker reads its index from DLS_TASK_INDEX, the number of workers from
DLS_TASK_NUMBER, and every worker's address from BATCH_CUSTOM<i>_HOSTS.
Worker 0 listens on its own address; the others connect to it and send a
partial sum; worker 0 adds them up, sends the total back to each, and writes
it to --train_url. Every worker prints the total it ends with.
"""
import argparse
import json
import os
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument('--data_url', type=str, default='')
parser.add_argument('--train_url', type=str, default='')
parser.add_argument('--n', type=int, default=1000)
args, unparsed = parser.parse_known_args()

index = int(os.environ['DLS_TASK_INDEX'])
number = int(os.environ['DLS_TASK_NUMBER'])
hosts = [os.environ['BATCH_CUSTOM%d_HOSTS' % i] for i in range(number)]
print('worker %d of %d; peers: %s' % (index, number, ', '.join(hosts)))

# Each worker sums its own share of 1..n.
partial = sum(range(index + 1, args.n + 1, number))
host, port = hosts[0].rsplit(':', 1)


def lead():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, int(port)))
    server.listen(number)
    server.settimeout(60)
    total, peers = partial, []
    for _ in range(number - 1):
        conn, _addr = server.accept()
        message = json.loads(conn.makefile().readline())
        print('worker %d sent %d' % (message['index'], message['partial']))
        total += message['partial']
        peers.append(conn)
    for conn in peers:
        conn.sendall(('%d\n' % total).encode())
        conn.close()
    server.close()
    with open(os.path.join(args.train_url, 'total.json'), 'w') as f:
        json.dump({'total': total, 'workers': number}, f)
    return total


def follow():
    deadline = time.time() + 60
    while True:
        try:
            conn = socket.create_connection((host, int(port)), timeout=5)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)  # worker 0 may not listen yet
    conn.sendall((json.dumps({'index': index, 'partial': partial}) + '\n').encode())
    total = int(conn.makefile().readline())
    conn.close()
    return total


total = lead() if index == 0 else follow()
print('worker %d: total %d' % (index, total))
