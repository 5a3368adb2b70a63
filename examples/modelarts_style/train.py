"""A training script written as ModelArts' tutorials write them; it runs unchanged.

It copies its data from --data_url into /cache with moxing, trains there,
writes the model and ModelArts' metric.json into /cache, and copies the
results out to --train_url with moxing again. The data folder may hold
digits.csv (64 pixel columns, then the label); without one it trains on
scikit-learn's bundled digits.
"""
import argparse
import json
import os
import pickle

import moxing as mox
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser(description='digits on ModelArts')
parser.add_argument('--data_url', type=str, default='', help='the training data')
parser.add_argument('--train_url', type=str, default='', help='where the model goes')
parser.add_argument('--C', type=float, default=1.0)
parser.add_argument('--max_iter', type=int, default=300)
args, unparsed = parser.parse_known_args()

local_data_url = '/cache/data'
local_train_url = '/cache/output'


def load_data():
    csv = os.path.join(local_data_url, 'digits.csv')
    if mox.file.exists(csv):
        table = np.loadtxt(csv, delimiter=',')
        return table[:, :-1], table[:, -1].astype(int)
    digits = load_digits()
    return digits.data, digits.target


def main():
    if args.data_url:
        mox.file.copy_parallel(args.data_url, local_data_url)
        print('data copied to %s: %s' % (local_data_url, mox.file.list_directory(local_data_url)))
    mox.file.make_dirs(local_train_url)

    x, y = load_data()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    model = LogisticRegression(C=args.C, max_iter=args.max_iter)
    model.fit(x_train / 16.0, y_train)
    predicted = model.predict(x_test / 16.0)
    accuracy = accuracy_score(y_test, predicted)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_test, predicted, average='macro', zero_division=0)
    print('accuracy: %.4f' % accuracy)

    with open(os.path.join(local_train_url, 'model.pkl'), 'wb') as f:
        pickle.dump(model, f)
    metric = {'total_metric': {'total_metric_values': {
        'accuracy': round(float(accuracy), 4),
        'precision': round(float(precision), 4),
        'recall': round(float(recall), 4),
        'f1': round(float(f1), 4),
    }}}
    with open(os.path.join(local_train_url, 'metric.json'), 'w') as f:
        json.dump(metric, f)

    mox.file.copy_parallel(local_train_url, args.train_url)
    print('results copied to %s' % args.train_url)


if __name__ == '__main__':
    main()
